"""The link in an instance of its own: writes answered elsewhere travel at once.

A place on PostgreSQL may serve HTTP from instances that run no link (`LIANGDI_SYNC_ENABLED=false`)
beside one that leads it, so that requests cannot take the link's interpreter
(docs/operations.md). The leading instance's relay then hears of a write through the store's
signal (shared/log_signal.py), not at its next poll: here the poll is 60 s, so a departure that
reaches the host within seconds was published because of the signal. And the instance without
the link shows the arrival's answer from the other place as soon as it is applied there.
"""

from __future__ import annotations

import random
import time

from shared.log_signal import channel_of
from tests.support.backends import NatsServer
from tests.support.harness import auth, running, settings_for, wait_until
from tests.support.places import host_record, register_and_depart

ORIGIN, HOST = "371326", "310115"
H_AUTH = auth("host_operator", HOST)
SLOW_POLL = {"poll_interval": 60.0}  # only the signal can make anything travel in time


def test_a_departure_answered_without_the_link_reaches_the_host_at_once(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin_db, host_db = f"{base}?schema={schema}_o", f"{base}?schema={schema}_h"
    api = settings_for("outflow", origin_db, nats_server.url, ORIGIN, sync_enabled=False)
    link = settings_for("outflow", origin_db, nats_server.url, ORIGIN).model_copy(update=SLOW_POLL)
    host = settings_for("inflow", host_db, nats_server.url, HOST).model_copy(update=SLOW_POLL)
    rng = random.Random(41)
    with (
        running("inflow", host) as at_host,
        running("outflow", link) as leading,
        running("outflow", api) as serving,
    ):
        wait_until(lambda: leading.app.state.runtime.agent.connected, 20, message="link up")
        assert serving.app.state.runtime.agent.role == "standby"  # it never leads the link
        for n in range(5):
            member_id, _ = register_and_depart(serving, HOST, rng)
            sent = time.monotonic()
            host_record(at_host, HOST, member_id)  # waits up to 20 s
            assert time.monotonic() - sent < 30 < SLOW_POLL["poll_interval"], n
        relay = leading.app.state.runtime.relay
        assert relay.position >= relay.head > 0  # published everything, woken each time
        heard = leading.app.state.runtime.signal.heard
        assert heard >= 1, "the leading instance heard of the writes"


def test_each_store_has_its_own_channel() -> None:
    one = channel_of("postgresql://db/test?schema=place_371326")
    assert one == channel_of("postgresql://other-host/test?schema=place_371326")
    assert one != channel_of("postgresql://db/test?schema=place_310115")
    assert len(one) <= 63  # PostgreSQL's identifiers


def test_the_instance_that_serves_offices_follows_the_facts_the_link_process_applies(
    pg_database_url: str, nats_server: NatsServer
) -> None:
    """The host's link in a process of its own that leaves the read models to the instance
    that serves the offices (`LIANGDI_FOLLOW_READ_MODELS=false`): that instance's read models
    follow each applied fact by the signal alone (its poll is 60 s), and the link process
    still brings them up to date before it reads one itself."""
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    origin_db, host_db = f"{base}?schema={schema}_o", f"{base}?schema={schema}_h"
    origin = settings_for("outflow", origin_db, nats_server.url, ORIGIN)
    offices = settings_for("inflow", host_db, nats_server.url, HOST, sync_enabled=False)
    link = settings_for("inflow", host_db, nats_server.url, HOST).model_copy(
        update=SLOW_POLL | {"follow_read_models": False}
    )
    rng = random.Random(43)
    with (
        running("outflow", origin) as at_origin,
        running("inflow", link) as linked,
        running("inflow", offices.model_copy(update=SLOW_POLL)) as serving,
    ):
        members = [register_and_depart(at_origin, HOST, rng)[0] for _ in range(4)]
        processor = linked.app.state.runtime.processor
        wait_until(
            lambda: processor.status()["counts"].get("applied", 0) >= 4, 20, message="facts applied"
        )
        head = linked.app.state.runtime.read_models.head()
        serving_models = serving.app.state.runtime.read_models
        # No request reached the instance that serves the offices: only the signal moved it.
        wait_until(lambda: serving_models.position >= head, 20, message="read models follow")
        linked_models = linked.app.state.runtime.read_models
        assert linked_models.handled_since_start == 0  # it left them to the other instance
        listed = linked.get("/api/v1/members", params={"limit": 50}, headers=H_AUTH)
        assert listed.status_code == 200, listed.text
        assert "X-Liangdi-Read-Model" not in listed.headers
        listed_ids = {m.get("origin_member_id") for m in listed.json()["items"]}
        assert set(members) <= listed_ids
