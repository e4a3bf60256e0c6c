"""deploy/nats/cluster.conf, run as it ships: three local nats-server processes on free ports
(never 4222), throwaway TLS certificates. A stream with 3 replicas takes writes, and keeps taking
them with a node down; clients must log in, over TLS, as users the authorization allows."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import re
import secrets
import signal
import ssl
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from liangdi_cli.natsserver import NatsServerNotFound, answers, find_nats_server
from liangdi_cli.procs import free_port
from shared.messaging.connection import inbox_prefix
from tests.support.backends import unavailable

pytestmark = pytest.mark.nats

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_CONF = ROOT / "deploy" / "nats" / "cluster.conf"
K8S_CONF = ROOT / "deploy" / "k8s" / "nats" / "nats.conf"
AUTHORIZATION = ROOT / "deploy" / "nats" / "permissions" / "authorization.conf"
HOST_USER, HOST_VARIABLE = "place-310115", "NATS_PASSWORD_PLACE_310115"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA and one certificate for all nodes, valid for 127.0.0.1 as server and as client (the
    routes' mutual TLS)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("liangdi test CA"))
        .issuer_name(_name("liangdi test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("nats"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": folder / "ca.pem", "cert": folder / "tls.pem", "key": folder / "tls.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(_pem(key))
    return files


def _password() -> str:
    # Letters only: nats-server reads a `$VARIABLE` password as a config value (devkeys.py).
    return "".join(secrets.choice(string.ascii_letters) for _ in range(24))


class Cluster:
    def __init__(self, root: Path, binary: Path):
        self.root, self.binary = root, binary
        self.certs = make_certificates(root)
        variables = set(re.findall(r"\$(NATS_PASSWORD_[A-Z0-9_]+)", AUTHORIZATION.read_text()))
        self.passwords = {variable: _password() for variable in sorted(variables)}
        self.client_ports = [free_port() for _ in range(3)]
        self.route_ports = [free_port() for _ in range(3)]
        assert 4222 not in self.client_ports
        self.processes: list[subprocess.Popen[bytes] | None] = [None, None, None]

    def start(self, index: int) -> None:
        """Node `index` exactly from cluster.conf; flags give only its loopback addresses."""
        routes = ",".join(f"nats-route://127.0.0.1:{port}" for port in self.route_ports)
        argv = [
            str(self.binary),
            "-c",
            str(CLUSTER_CONF),
            "--addr",
            "127.0.0.1",
            "--port",
            str(self.client_ports[index]),
            "--http_port",
            str(free_port()),
            "--cluster",
            f"nats://127.0.0.1:{self.route_ports[index]}",
            "--routes",
            routes,
        ]
        env = {
            "NATS_SERVER_NAME": f"nats-{index}",
            "NATS_STORE_DIR": str(self.root / f"store-{index}"),
            "NATS_TLS_CERT": str(self.certs["cert"]),
            "NATS_TLS_KEY": str(self.certs["key"]),
            "NATS_TLS_CA": str(self.certs["ca"]),
            **self.passwords,
        }
        log = open(self.root / f"nats-{index}.log", "ab")  # noqa: SIM115 - as long as the process
        self.processes[index] = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def log(self, index: int) -> str:
        return (self.root / f"nats-{index}.log").read_text(errors="replace")[-3000:]

    def kill(self, index: int) -> None:
        process = self.processes[index]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.terminate()
        for index, process in enumerate(self.processes):
            if process is not None:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill(index)

    def url(self, index: int) -> str:
        return f"nats://127.0.0.1:{self.client_ports[index]}"

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certs["ca"]))

    async def connect(self, index: int, user: str | None, password: str | None, **kw) -> nats.NATS:
        owner = (user or "anonymous").removeprefix("place-")
        return await nats.connect(
            self.url(index),
            user=user,
            password=password,
            inbox_prefix=inbox_prefix(owner),  # the replies each user may receive
            connect_timeout=3,
            allow_reconnect=False,
            max_reconnect_attempts=0,
            **({"tls": self.tls()} | kw),
        )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    try:
        binary = find_nats_server()
    except NatsServerNotFound as exc:
        unavailable(str(exc))
        raise
    running = Cluster(tmp_path, binary)
    for index in range(3):
        running.start(index)
    try:
        yield running
    finally:
        running.stop()


def test_the_k8s_configuration_is_the_deploy_one() -> None:
    """One configuration: k8s differs only in where the ConfigMap puts the authorization."""
    k8s = K8S_CONF.read_text().replace("include ./authorization.conf", "")
    deploy = CLUSTER_CONF.read_text().replace("include ./permissions/authorization.conf", "")
    assert k8s == deploy


async def _until(check, timeout: float = 30.0, what: str = "") -> object:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await check()
        except Exception as exc:
            if loop.time() > deadline:
                raise AssertionError(f"{what}: {exc!r}") from exc
            await asyncio.sleep(0.5)


async def test_three_nodes_replicate_a_stream_and_refuse_strangers(cluster: Cluster) -> None:
    for index in range(3):
        for _ in range(100):
            if answers(cluster.client_ports[index]):
                break
            if cluster.processes[index].poll() is not None:
                pytest.fail(f"nats-{index} exited:\n{cluster.log(index)}")
            await asyncio.sleep(0.1)
    sync_password = cluster.passwords["NATS_PASSWORD_SYNC"]

    # Strangers: no user, a wrong password, no TLS at all.
    for user, password in ((None, None), ("sync", "wrong")):
        with pytest.raises(Exception, match="(?i)authorization"):
            await cluster.connect(0, user, password)
    with pytest.raises(Exception):  # noqa: B017 - the server requires TLS of every client
        await cluster.connect(0, "sync", sync_password, tls=None)

    nc = await cluster.connect(0, "sync", sync_password)
    try:
        js = nc.jetstream(timeout=5)

        async def create() -> object:
            return await js.add_stream(name="PROBE", subjects=["liangdi.probe.>"], num_replicas=3)

        # Once the three have elected a JetStream meta leader over their TLS routes.
        await _until(create, what="an R3 stream on the cluster")
        ack = await js.publish("liangdi.probe.one", b"1")
        assert ack.stream == "PROBE"

        async def replicated() -> object:
            info = await js.stream_info("PROBE")
            assert info.cluster is not None and info.cluster.leader
            peers = info.cluster.replicas or []
            assert len(peers) == 2 and all(p.current for p in peers), peers
            return info

        info = await _until(replicated, what="two current replicas")
        assert info.config.num_replicas == 3

        # A place's user may not administer streams (its permissions, from authorization.conf).
        place = await cluster.connect(1, HOST_USER, cluster.passwords[HOST_VARIABLE])
        try:
            with pytest.raises(Exception):  # noqa: B017 - a permissions violation, or no reply
                await place.jetstream(timeout=2).add_stream(name="MINE", subjects=["mine.>"])
        finally:
            await place.close()
    finally:
        await nc.close()

    # With one node down, the two others still take and keep writes.
    leader = int(info.cluster.leader.rsplit("-", 1)[1])
    cluster.kill(leader)
    survivor = next(i for i in range(3) if i != leader)
    nc = await cluster.connect(survivor, "sync", sync_password)
    try:
        js = nc.jetstream(timeout=5)

        async def publish() -> object:
            return await js.publish("liangdi.probe.two", b"2")

        await _until(publish, what="a write with one node down")
        state = (await js.stream_info("PROBE")).state
        assert state.messages == 2
    finally:
        await nc.close()
