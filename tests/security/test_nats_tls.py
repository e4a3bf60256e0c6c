"""NATS over TLS by configuration (`LIANGDI_NATS_TLS_CA/CERT/KEY`): a CA this test creates signs
the server's certificate for 127.0.0.1 and a client certificate; the server requires both TLS and
a client certificate. A service configured with them logs in over TLS; a client that does not
trust the CA, or has no certificate, is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shared.messaging.connection import NatsAccess, connect, tls_context
from tests.support.backends import NatsServer, nats_password
from tests.support.harness import running, settings_for, wait_until

ORIGIN = "371326"


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    name: str, ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None, usage: str
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca[1].subject if ca else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca is None, path_length=None), critical=True)
    )
    if usage == "server":
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif usage == "client":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return key, builder.sign(ca[0] if ca else key, hashes.SHA256())


@pytest.fixture
def tls_nats(tmp_path: Path) -> Iterator[tuple[NatsServer, Path]]:
    pki = tmp_path / "pki"
    pki.mkdir()
    ca = _issue("liangdi test CA", None, "ca")
    _write(pki / "ca", *ca)
    _write(pki / "server", *_issue("nats", ca, "server"))
    _write(pki / "client", *_issue("place-371326", ca, "client"))
    block = (
        "tls {\n"
        f'  cert_file: "{pki / "server.pem"}"\n'
        f'  key_file: "{pki / "server.key"}"\n'
        f'  ca_file: "{pki / "ca.pem"}"\n'
        "  verify: true\n"
        "  timeout: 2\n"
        "}\n"
    )
    admin_tls = tls_context(str(pki / "ca.pem"), str(pki / "client.pem"), str(pki / "client.key"))
    server = NatsServer(tmp_path / "nats", extra_config=block, tls=admin_tls).start()
    yield server, pki
    server.stop()


async def _refused(address: str, **options: object) -> str:
    try:
        nc = await nats.connect(
            address,
            user=f"place-{ORIGIN}",
            password=nats_password(f"place-{ORIGIN}"),
            max_reconnect_attempts=0,
            allow_reconnect=False,
            connect_timeout=3,
            **options,
        )
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await nc.close()
    return ""


def test_a_service_logs_in_over_tls_and_clients_without_the_ca_are_refused(
    tls_nats: tuple[NatsServer, Path], tmp_path: Path
) -> None:
    server, pki = tls_nats
    settings = settings_for(
        "outflow",
        f"sqlite:///{tmp_path / 'o.db'}",
        server.url,
        ORIGIN,
        nats_tls_ca=str(pki / "ca.pem"),
        nats_tls_cert=str(pki / "client.pem"),
        nats_tls_key=str(pki / "client.key"),
    )

    def connection() -> dict:
        connz = httpx.get(f"http://127.0.0.1:{server.monitor_port}/connz?auth=1").json()
        named = [c for c in connz["connections"] if c.get("name") == f"liangdi-outflow-{ORIGIN}"]
        return named[0] if named else {}

    with running("outflow", settings) as out:
        seen = wait_until(connection, message="the outflow's TLS connection")
        assert out.get("/readyz").status_code == 200
    assert seen["authorized_user"] == f"place-{ORIGIN}"
    assert seen["tls_version"].startswith("1.")

    # Without trusting the CA (the system's roots only): the server's certificate is refused.
    untrusted = asyncio.run(_refused(server.address, tls=ssl.create_default_context()))
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted, untrusted
    # Trusting the CA but without a client certificate: the server refuses the handshake.
    no_cert = asyncio.run(_refused(server.address, tls=tls_context(str(pki / "ca.pem"))))
    # (How the refusal surfaces depends on timing: the server may close before or during the
    # client's handshake write; either way the client never gets a connection.)
    refused = ("ConnectionResetError", "SSLError", "BrokenPipeError", "ConnectionAbortedError")
    assert no_cert.startswith(refused), no_cert
    # And nobody talks to it in clear: its greeting demands TLS before anything else.
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        info = json.loads(sock.recv(4096).decode().removeprefix("INFO "))
    assert info["tls_required"] is True and info["auth_required"] is True


def test_settings_refuse_a_client_certificate_without_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="go together"):
        tls_context(str(tmp_path / "ca.pem"), cert=str(tmp_path / "client.pem"))


def test_with_tls_configured_no_password_goes_to_a_server_in_clear(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone in the middle answering without TLS (here: a server without it) never gets the
    password: the service keeps trying, and says why."""
    access = NatsAccess(
        [nats_server.address],
        f"place-{ORIGIN}",
        nats_password(f"place-{ORIGIN}"),
        tls=ssl.create_default_context(),
    )

    async def attempt() -> None:
        nc = await asyncio.wait_for(connect(access, name="probe", owner=ORIGIN), 3)
        await nc.close()

    with pytest.raises(TimeoutError):
        asyncio.run(attempt())
    assert "did not require TLS: no credentials sent" in caplog.text
    connz = httpx.get(f"http://127.0.0.1:{nats_server.monitor_port}/connz?auth=1").json()
    assert not [c for c in connz["connections"] if c.get("authorized_user")]
