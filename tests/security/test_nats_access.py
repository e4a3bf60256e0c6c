"""The NATS every test runs against is closed like `liangdi up`'s: one permission per test, each
refused for the wrong user and allowed for the right one, and the services log in as themselves."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import nats
import pytest
from nats.aio.client import Client

from shared.messaging.antientropy import answers_subject, antientropy_subject
from shared.messaging.topology import (
    CONTROL_BUCKET,
    EVENTS_STREAM,
    pause_key,
    receiver_consumer,
)
from tests.support.backends import NatsServer, nats_password
from tests.support.harness import running, settings_for, wait_until

ORIGIN, HOST, OTHER_HOST = "371326", "310115", "310112"


@asynccontextmanager
async def login(server: NatsServer, user: str, owner: str) -> AsyncIterator[tuple[Client, list]]:
    """A client as `user`, with the inbox prefix the services use; collects the server's -ERRs."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc).lower())

    nc = await nats.connect(
        server.address,
        user=user,
        password=nats_password(user),
        inbox_prefix=f"_INBOX.{owner}",
        error_cb=on_error,
        max_reconnect_attempts=0,
        allow_reconnect=False,
    )
    try:
        yield nc, errors
    finally:
        await nc.close()


async def _stored(nc: Client, subject: str) -> bool:
    try:
        await nc.jetstream().publish(subject, b"{}", timeout=1.0)
        return True
    except Exception:  # a permissions violation leaves the publish unanswered
        return False


def test_an_anonymous_client_is_refused(nats_server: NatsServer) -> None:
    async def scenario() -> str:
        try:
            nc = await nats.connect(
                nats_server.address, max_reconnect_attempts=0, allow_reconnect=False
            )
        except Exception as exc:
            return str(exc).lower()
        await nc.close()
        return "connected"

    assert "authorization violation" in asyncio.run(scenario())


def test_a_wrong_password_is_refused(nats_server: NatsServer) -> None:
    async def scenario() -> str:
        try:
            nc = await nats.connect(
                nats_server.address,
                user=f"place-{HOST}",
                password=nats_password(f"place-{OTHER_HOST}"),
                max_reconnect_attempts=0,
                allow_reconnect=False,
            )
        except Exception as exc:
            return str(exc).lower()
        await nc.close()
        return "connected"

    assert "authorization violation" in asyncio.run(scenario())


def test_a_place_publishes_its_own_facts_and_no_other_places(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        async with login(nats_server, f"place-{HOST}", HOST) as (host, errors):
            assert await _stored(host, f"liangdi.ev.h2o.{HOST}.{ORIGIN}.m1")
            assert not await _stored(host, f"liangdi.ev.h2o.{OTHER_HOST}.{ORIGIN}.m1")
            assert not await _stored(host, f"liangdi.ev.o2h.{ORIGIN}.{HOST}.m1")  # the origin's
            assert not await _stored(host, f"liangdi.dlq.inflow.{OTHER_HOST}")
        assert any(f'publish to "liangdi.ev.h2o.{OTHER_HOST}' in e for e in errors), errors
        async with login(nats_server, "admin", "admin") as (admin, _):
            info = await admin.jetstream().stream_info(EVENTS_STREAM, subjects_filter=">")
        assert set(info.state.subjects or {}) == {f"liangdi.ev.h2o.{HOST}.{ORIGIN}.m1"}

    asyncio.run(scenario())


def test_only_the_sync_user_writes_the_control_bucket(nats_server: NatsServer) -> None:
    key = pause_key("inflow", HOST)

    async def scenario() -> None:
        async with login(nats_server, f"place-{HOST}", HOST) as (host, errors):
            kv = await host.jetstream(timeout=1).key_value(CONTROL_BUCKET)
            with pytest.raises(Exception):  # noqa: B017 - unanswered: a timeout
                await kv.put(key, b"0")  # a place un-pausing itself
            with pytest.raises(Exception):  # noqa: B017
                await kv.put(pause_key("inflow", OTHER_HOST), b"1")  # or pausing another
            await host.flush()
        assert any(f'publish to "$kv.{CONTROL_BUCKET}.' in e for e in errors), errors
        async with login(nats_server, "sync", "sync") as (sync, sync_errors):
            kv = await sync.jetstream(timeout=2).key_value(CONTROL_BUCKET)
            await kv.put(key, b"1")
            assert (await kv.get(key)).value == b"1"
        assert not sync_errors
        # The place reads its own flag, which is what its receiver needs.
        async with login(nats_server, f"place-{HOST}", HOST) as (host, _):
            kv = await host.jetstream(timeout=2).key_value(CONTROL_BUCKET)
            assert (await kv.get(key)).value == b"1"

    asyncio.run(scenario())


def test_a_place_reads_neither_another_places_consumer_nor_inbox(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        async with login(nats_server, "sync", "sync") as (sync, _):
            js = sync.jetstream()
            await js.publish(f"liangdi.ev.o2h.{ORIGIN}.{OTHER_HOST}.m1", b"{}")
            await js.add_consumer(EVENTS_STREAM, receiver_consumer("inflow", OTHER_HOST, "o2h"))
        async with login(nats_server, f"place-{HOST}", HOST) as (host, errors):
            js = host.jetstream(timeout=1)
            # The other host's durable consumer: neither fetched from nor inspected.
            next_other = f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.inflow-{OTHER_HOST}"
            with pytest.raises(Exception):  # noqa: B017
                await host.request(next_other, json.dumps({"batch": 1}).encode(), timeout=1)
            with pytest.raises(Exception):  # noqa: B017
                await js.consumer_info(EVENTS_STREAM, f"inflow-{OTHER_HOST}")
            # Nor listening on its inbox, its subjects, or every inbox.
            await host.subscribe(f"_INBOX.{OTHER_HOST}.>")
            await host.subscribe(f"liangdi.ev.o2h.*.{OTHER_HOST}.>")
            await host.subscribe("_INBOX.>")
            await host.flush()
            await asyncio.sleep(0.2)
        for refused in (
            f'publish to "{next_other.lower()}"',
            f'subscription to "_inbox.{OTHER_HOST}.>"',
            f'subscription to "liangdi.ev.o2h.*.{OTHER_HOST}.>"',
            'subscription to "_inbox.>"',
        ):
            assert any(refused in e for e in errors), (refused, errors)
        # And the message is still there for its addressee.
        async with login(nats_server, "sync", "sync") as (sync, _):
            info = await sync.jetstream().consumer_info(EVENTS_STREAM, f"inflow-{OTHER_HOST}")
        assert info.num_pending == 1 and info.num_ack_pending == 0

    asyncio.run(scenario())


def test_a_place_answers_anti_entropy_on_its_own_subject_only(nats_server: NatsServer) -> None:
    """No `allow_responses` for a place: with it, nats-server records the reply subject of every
    JetStream delivery to the place (docs/performance.md, "Ninth pass"), and a place could
    answer on the asker's inbox. It answers on `liangdi.ae.answers.<service>.<place>.*`."""
    own = f"{answers_subject('inflow', HOST)}.t1"
    others = f"{answers_subject('inflow', OTHER_HOST)}.t2"

    async def scenario() -> None:
        async with (
            login(nats_server, "sync", "sync") as (sync, _),
            login(nats_server, f"place-{HOST}", HOST) as (host, errors),
        ):
            questions = await host.subscribe(antientropy_subject("inflow", HOST))
            inbox = "_INBOX.sync.t3"
            heard = {subject: await sync.subscribe(subject) for subject in (own, others, inbox)}
            await host.flush()
            await sync.flush()
            await sync.publish(antientropy_subject("inflow", HOST), b"{}", reply=inbox)
            assert (await questions.next_msg(timeout=2)).reply == inbox
            for subject in heard:  # the asker's inbox, another place's answers, its own
                await host.publish(subject, b"{}")
            await host.flush()
            assert (await heard[own].next_msg(timeout=2)).data == b"{}"
            for subject in (inbox, others):
                with pytest.raises(nats.errors.TimeoutError):
                    await heard[subject].next_msg(timeout=0.3)
                assert any(f'publish to "{subject.lower()}"' in e for e in errors), errors

    asyncio.run(scenario())


def test_services_log_in_as_their_own_users(nats_server: NatsServer, tmp_path: Path) -> None:
    """settings_for gives each service its own user; the server's /connz says who logged in."""
    origin = settings_for("outflow", f"sqlite:///{tmp_path / 'o.db'}", nats_server.url, ORIGIN)
    host = settings_for("inflow", f"sqlite:///{tmp_path / 'h.db'}", nats_server.url, HOST)
    sync = settings_for("sync", f"sqlite:///{tmp_path / 's.db'}", nats_server.url)
    assert "admin" not in origin.nats_url and origin.nats_user == f"place-{ORIGIN}"

    def users() -> dict[str, str]:
        connz = httpx.get(f"http://127.0.0.1:{nats_server.monitor_port}/connz?auth=1").json()
        return {c.get("name", ""): c.get("authorized_user", "") for c in connz["connections"]}

    with running("outflow", origin), running("inflow", host), running("sync", sync):
        seen = wait_until(
            lambda: (u := users()).get(f"liangdi-inflow-{HOST}") and u,
            message="the services' connections",
        )
        wait_until(lambda: "liangdi-sync" in (seen := users()) and seen, message="sync")
        seen = users()
    assert seen[f"liangdi-outflow-{ORIGIN}"] == f"place-{ORIGIN}"
    assert seen[f"liangdi-inflow-{HOST}"] == f"place-{HOST}"
    assert seen[f"liangdi-antientropy-inflow-{HOST}"] == f"place-{HOST}"
    assert seen["liangdi-sync"] == "sync"


def test_settings_become_credentials_that_are_never_printed() -> None:
    from shared.config import OutflowSettings
    from shared.messaging.connection import connect_options, nats_access

    settings = OutflowSettings(
        place=ORIGIN, nats_user=f"place-{ORIGIN}", nats_password="s3cret-pw", nats_url="nats://a:1"
    )
    access = nats_access(settings)
    assert connect_options(access) == {
        "servers": ["nats://a:1"],
        "user": f"place-{ORIGIN}",
        "password": "s3cret-pw",
    }
    assert "s3cret-pw" not in repr(access) and "s3cret-pw" not in repr(settings)
    with pytest.raises(ValueError, match="LIANGDI_NATS_TLS_CA"):
        nats_access(settings.model_copy(update={"nats_tls_cert": "client.pem"}))
