"""A nats-server with the generated per-place permissions: a host cannot publish as the origin,
read another place's messages or touch the streams; it can publish and consume its own."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig

from shared.messaging.topology import (
    EVENTS_STREAM,
    STATUS_BUCKET,
    ensure_topology,
    receiver_consumer,
)
from tests.support.backends import free_port, nats_binary, unavailable

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "deploy/nats/permissions/generate.py"
ORIGIN, HOST, OTHER_HOST = "371326", "310115", "310112"
PASSWORDS = {"SYNC": "sync-pw", ORIGIN: "origin-pw", HOST: "host-pw", OTHER_HOST: "other-pw"}


@pytest.fixture
def restricted_nats(tmp_path: Path) -> Iterator[str]:
    binary = nats_binary()
    if binary is None:
        unavailable("nats-server")
    sys.path.insert(0, str(GENERATOR.parent))
    try:
        import generate  # deploy/nats/permissions/generate.py
    finally:
        sys.path.remove(str(GENERATOR.parent))
    port = free_port()
    (tmp_path / "authorization.conf").write_text(
        generate.render([ORIGIN], [HOST, OTHER_HOST], literal=PASSWORDS)
    )
    (tmp_path / "server.conf").write_text(
        f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{tmp_path / "js"}" }}\n'
        "include ./authorization.conf\n"
    )
    log = open(tmp_path / "nats.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [binary, "-c", str(tmp_path / "server.conf")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 10
        while b"Server is ready" not in (tmp_path / "nats.log").read_bytes():
            assert process.poll() is None, (tmp_path / "nats.log").read_text()
            assert time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@asynccontextmanager
async def connect(address: str, who: str, errors: list[str]) -> AsyncIterator[Client]:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    key = "sync" if who == "SYNC" else who
    user = "sync" if who == "SYNC" else f"place-{who}"
    nc = await nats.connect(
        f"nats://{user}:{PASSWORDS[who]}@{address}",
        inbox_prefix=f"_INBOX.{key}",
        error_cb=on_error,
        max_reconnect_attempts=0,
    )
    try:
        yield nc
    finally:
        await nc.close()


async def _published(nc: Client, subject: str) -> bool:
    try:
        await nc.jetstream().publish(subject, b"{}", timeout=1.0)
        return True
    except Exception:  # a permissions violation leaves the publish unanswered
        return False


async def _scenario(address: str) -> None:
    admin_errors: list[str] = []
    async with connect(address, "SYNC", admin_errors) as admin:
        admin_js = admin.jetstream()
        await ensure_topology(admin_js)  # streams and buckets come from the exchange, not places
        await admin_js.publish(f"liangdi.ev.o2h.{ORIGIN}.{HOST}.m1", b"{}")
        await admin_js.publish(f"liangdi.ev.o2h.{ORIGIN}.{OTHER_HOST}.m2", b"{}")

        host_errors: list[str] = []
        async with connect(address, HOST, host_errors) as host:
            # Its own facts, yes; the origin's subjects or another host's, no.
            assert await _published(host, f"liangdi.ev.h2o.{HOST}.{ORIGIN}.m1")
            assert not await _published(host, f"liangdi.ev.o2h.{ORIGIN}.{HOST}.x")
            assert not await _published(host, f"liangdi.ev.h2o.{OTHER_HOST}.{ORIGIN}.x")
            # Its own durable's create subject, but with another host's filter in the body.
            own = f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.inflow-{HOST}.liangdi.ev.o2h.*.{HOST}.>"
            spy = {
                "durable_name": f"inflow-{HOST}",
                "name": f"inflow-{HOST}",
                "filter_subject": f"liangdi.ev.o2h.*.{OTHER_HOST}.>",
                "ack_policy": "explicit",
            }
            answer = await host.request(
                own, json.dumps({"stream_name": EVENTS_STREAM, "config": spy}).encode(), timeout=2
            )
            assert json.loads(answer.data)["error"]["err_code"] == 10131  # filter mismatch
            # Its own durable consumer (the receiver's exact config) delivers and acks its facts.
            js = host.jetstream()
            config = receiver_consumer("inflow", HOST, "o2h")
            sub = await js.pull_subscribe(
                config.filter_subject,
                durable=config.durable_name,
                stream=EVENTS_STREAM,
                config=config,
            )
            messages = await sub.fetch(batch=10, timeout=2.0)
            assert [m.subject for m in messages] == [f"liangdi.ev.o2h.{ORIGIN}.{HOST}.m1"]
            for msg in messages:
                await msg.ack()
            await (await js.key_value(STATUS_BUCKET)).put(f"inflow.{HOST}", b"{}")
            # Another place's messages: neither by a consumer on their filter nor by listening.
            with pytest.raises(Exception):  # noqa: B017 - a timeout or a permissions error
                await js.add_consumer(
                    EVENTS_STREAM,
                    ConsumerConfig(
                        durable_name=f"inflow-{HOST}-spy",
                        filter_subject=f"liangdi.ev.o2h.*.{OTHER_HOST}.>",
                    ),
                    timeout=1.0,
                )
            await host.subscribe(f"liangdi.ev.o2h.*.{OTHER_HOST}.>")
            await host.subscribe("_INBOX.>")
            # Nor touch the streams.
            with pytest.raises(Exception):  # noqa: B017
                await js.purge_stream(EVENTS_STREAM)
            await host.flush()
            await asyncio.sleep(0.3)
        # nats-py reports the server's -ERR lines in lower case
        violations = [e.lower() for e in host_errors if "permissions violation" in e.lower()]
        assert any(f'publish to "liangdi.ev.o2h.{ORIGIN}.{HOST}.x' in e for e in violations)
        assert any(f'subscription to "liangdi.ev.o2h.*.{OTHER_HOST}' in e for e in violations)
        assert any('subscription to "_inbox.>"' in e for e in violations), violations
        assert any("$js.api.stream.purge" in e for e in violations), violations

        origin_errors: list[str] = []
        async with connect(address, ORIGIN, origin_errors) as origin:
            assert await _published(origin, f"liangdi.ev.o2h.{ORIGIN}.{HOST}.m3")
            assert not await _published(origin, f"liangdi.ev.o2h.370303.{HOST}.x")
            assert not await _published(origin, f"liangdi.ev.h2o.{HOST}.{ORIGIN}.x")

        # What the stream holds: only what each place was allowed to publish.
        info = await admin_js.stream_info(EVENTS_STREAM, subjects_filter="liangdi.ev.>")
        assert set(info.state.subjects or {}) == {
            f"liangdi.ev.o2h.{ORIGIN}.{HOST}.m1",
            f"liangdi.ev.o2h.{ORIGIN}.{OTHER_HOST}.m2",
            f"liangdi.ev.h2o.{HOST}.{ORIGIN}.m1",
            f"liangdi.ev.o2h.{ORIGIN}.{HOST}.m3",
        }
        assert not admin_errors


def test_a_host_cannot_publish_as_the_origin_nor_read_other_places(restricted_nats: str) -> None:
    asyncio.run(_scenario(restricted_nats))


def test_the_generator_refuses_bad_place_codes() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--origin", "37132"], capture_output=True, text=True
    )
    assert result.returncode != 0 and "6-digit" in result.stderr
    shipped = (GENERATOR.parent / "authorization.conf").read_text()
    assert f"liangdi.ev.h2o.{HOST}.>" in shipped and f"liangdi.ev.o2h.{ORIGIN}.>" in shipped


async def _provision(address: str) -> None:
    errors: list[str] = []
    async with connect(address, "SYNC", errors) as admin:
        await ensure_topology(admin.jetstream())
    assert not errors, errors


def test_the_services_run_under_their_least_privilege_users(
    restricted_nats: str, postgres_url: str, pg_database_url: str
) -> None:
    """Not just a config file: real outflow and inflow services, each with only its own place's
    NATS user, exchange a departure and a report through the restricted server."""
    import random

    from tests.support.backends import drop_schema
    from tests.support.factories import departure_body, member_body
    from tests.support.harness import auth, running, settings_for, wait_until

    asyncio.run(_provision(restricted_nats))  # streams come from the exchange, not from places
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]

    def url(who: str) -> str:
        return f"nats://place-{who}:{PASSWORDS[who]}@{restricted_nats}"

    origin = settings_for("outflow", f"{base}?schema={schema}_o", url(ORIGIN), ORIGIN)
    host = settings_for("inflow", f"{base}?schema={schema}_h", url(HOST), HOST)
    rng = random.Random(6)
    try:
        with running("outflow", origin) as out, running("inflow", host) as inflow:
            o_auth, h_auth = auth("origin_operator", ORIGIN), auth("host_operator", HOST)
            member_id = out.post("/api/v1/members", json=member_body(rng), headers=o_auth).json()[
                "member_id"
            ]
            certificate = out.post(
                f"/api/v1/members/{member_id}/departures",
                json=departure_body(HOST, rng),
                headers=o_auth,
            ).json()["certificate_no"]
            items = wait_until(
                lambda: inflow.get("/api/v1/members", headers=h_auth).json()["items"],
                message="the arrival through the restricted server",
            )
            reported = inflow.post(
                f"/api/v1/members/{items[0]['member_id']}/report",
                json={"certificate_no": certificate, "reported_on": "2026-03-05"},
                headers=h_auth,
            )
            assert reported.status_code == 204, reported.text
            wait_until(
                lambda: out.get(f"/api/v1/members/{member_id}", headers=o_auth).json()[
                    "reported_on"
                ],
                message="the report back through the restricted server",
            )
    finally:
        for suffix in ("_o", "_h"):
            drop_schema(postgres_url, schema + suffix)


def test_the_shipped_authorization_takes_its_passwords_from_the_environment(
    tmp_path: Path,
) -> None:
    """docker-compose and k8s mount the shipped file unchanged: nats-server reads the passwords
    from NATS_PASSWORD_* and refuses to start when one is missing (never an open user)."""
    binary = nats_binary()
    if binary is None:
        unavailable("nats-server")
    shipped = GENERATOR.parent / "authorization.conf"
    secrets = {
        "NATS_PASSWORD_SYNC": "s-from-env",
        f"NATS_PASSWORD_PLACE_{ORIGIN}": "o-from-env",
        f"NATS_PASSWORD_PLACE_{HOST}": "h-from-env",
        f"NATS_PASSWORD_PLACE_{OTHER_HOST}": "x-from-env",
    }
    missing = dict(secrets)
    missing.pop(f"NATS_PASSWORD_PLACE_{HOST}")
    check = subprocess.run(
        [binary, "-c", str(shipped), "-t"], capture_output=True, text=True, env=missing
    )
    assert check.returncode != 0 and f"NATS_PASSWORD_PLACE_{HOST}" in check.stderr

    port = free_port()
    process = subprocess.Popen(
        [binary, "-c", str(shipped), "-a", "127.0.0.1", "-p", str(port)],
        env=secrets,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def logins() -> list[bool]:
        results = []
        for user, password in ((f"place-{HOST}", "h-from-env"), (f"place-{HOST}", "")):
            try:
                nc = await nats.connect(
                    f"nats://127.0.0.1:{port}",
                    user=user,
                    password=password,
                    max_reconnect_attempts=0,
                    allow_reconnect=False,
                    connect_timeout=2,
                )
                await nc.close()
                results.append(True)
            except Exception:
                results.append(False)
        return results

    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            assert process.poll() is None and time.monotonic() < deadline, "no nats-server"
            time.sleep(0.05)
        assert asyncio.run(logins()) == [True, False]
    finally:
        process.terminate()
        process.wait(10)


def _answers(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
