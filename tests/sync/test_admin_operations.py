"""The sync service's operator endpoints over real NATS and PostgreSQL: dead letters (stored,
listed masked, retried once, discarded with who and why), pause / resume / replay, auth."""

from __future__ import annotations

import asyncio
import json
import time

import nats

from shared.contracts.envelope import Envelope
from shared.messaging.topology import STATUS_BUCKET, ensure_topology, event_subject
from tests.support.harness import auth, running, settings_for
from tests.sync.kit import HOST, ORIGIN, Receiver, Sender, eventually

ADMIN, AUDITOR = auth("sync_admin"), auth("auditor")
LINK = f"o2h/{ORIGIN}/{HOST}"


def subject_of(envelope: Envelope) -> str:
    return event_subject(
        envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
    )


async def publish(url: str, items: list[tuple[str, bytes, str]]) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_topology(js)
    for subject, data, msg_id in items:
        await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})
    await nc.close()


def call(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return asyncio.to_thread(fn, *args, **kwargs)


async def test_dead_letters_listed_retried_and_discarded(schema_url, nats_server) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url, park_timeout=1.0)
    member = str(await call(sender.app.open_and_note, HOST, 2))
    envelopes, _ = await call(sender.relay.envelopes, 0)
    settings = settings_for("sync", schema_url("s"), nats_server.url)
    try:
        await receiver.agent.start()
        with running("sync", settings) as sync:
            garbage = b'{"specversion": "1.0", "resident_id": "37132619900101123X"}'
            second = envelopes[1]
            await publish(
                nats_server.url,
                [
                    (event_subject("o2h", ORIGIN, HOST, "x"), garbage, "garbage-1"),
                    (subject_of(second), second.to_bytes(), second.id),  # its predecessor: never
                ],
            )

            def listed() -> dict:
                return sync.get("/admin/dead-letters", headers=AUDITOR).json()

            page = await eventually(lambda: listed()["total"] == 2 and listed(), message="2 DLs")
            by_class = {item["reason_class"]: item for item in page["items"]}
            assert set(by_class) == {"malformed", "out_of_order"}
            malformed, stuck = by_class["malformed"], by_class["out_of_order"]
            assert malformed["reason"].startswith("malformed: attribute")
            assert "37132619900101123X" not in str(malformed["message"])  # masked
            assert (malformed["from_place"], malformed["to_place"]) == (ORIGIN, HOST)
            summary = sync.get("/admin/dead-letters/summary", headers=AUDITOR).json()["links"]
            assert summary[0]["open"] == 2 and summary[0]["oldest_age_seconds"] >= 0
            paged = sync.get("/admin/dead-letters?limit=1&offset=1", headers=AUDITOR).json()
            assert paged["total"] == 2 and len(paged["items"]) == 1

            # Reads for auditors, actions for sync admins only.
            assert (
                sync.post(f"/admin/dead-letters/{stuck['id']}/retry", headers=AUDITOR).status_code
                == 403
            )
            assert sync.get("/admin/dead-letters").status_code == 401

            first = envelopes[0]  # the predecessor arrives late: now the stuck fact can apply
            await publish(nats_server.url, [(subject_of(first), first.to_bytes(), first.id)])
            await eventually(lambda: receiver.app.mirror(member) == [1])
            retried = sync.post(f"/admin/dead-letters/{stuck['id']}/retry", headers=ADMIN)
            assert retried.status_code == 200, retried.text
            await eventually(lambda: receiver.app.mirror(member) == [1, 2], message="retry applied")
            again = sync.post(f"/admin/dead-letters/{stuck['id']}/retry", headers=ADMIN)
            assert (
                again.status_code == 409 and again.json()["error"]["code"] == "dead_letter.retried"
            )

            no_reason = sync.post(
                f"/admin/dead-letters/{malformed['id']}/discard", json={"reason": ""}, headers=ADMIN
            )
            assert no_reason.status_code == 422
            discarded = sync.post(
                f"/admin/dead-letters/{malformed['id']}/discard",
                json={"reason": "test garbage from a drill"},
                headers=ADMIN,
            )
            assert discarded.status_code == 200, discarded.text
            kept = sync.get(f"/admin/dead-letters/{malformed['id']}", headers=AUDITOR).json()
            assert kept["state"] == "discarded" and kept["discarded_by"] == "test-sync_admin"
            assert kept["history"][-1]["reason"] == "test garbage from a drill"
            assert sync.get("/admin/dead-letters?state=open", headers=AUDITOR).json()["total"] == 0
            metrics = sync.get("/metrics").text
            assert 'liangdi_dead_letters{direction="o2h",from_place="371326",' in metrics
            assert "37132619900101123X" not in metrics
        await asyncio.sleep(0.5)
        assert receiver.app.mirror(member) == [1, 2]  # once, even after the retry's redelivery
    finally:
        await receiver.agent.stop()
        sender.close()
        receiver.close()


async def test_pause_resume_and_replay_a_link(schema_url, nats_server) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    settings = settings_for("sync", schema_url("s"), nats_server.url)
    try:
        await sender.agent.start()
        await receiver.agent.start()
        with running("sync", settings) as sync:
            ids = [await call(sender.app.open_and_note, HOST, 2) for _ in range(5)]
            await eventually(lambda: receiver.processor.counts["applied"] == 10)
            paused = sync.post(
                f"/admin/links/{LINK}/pause", json={"reason": "drill"}, headers=ADMIN
            )
            assert paused.status_code == 200, paused.text
            await eventually(lambda: ORIGIN in receiver.agent.paused_sources, message="paused")
            for ledger_id in ids:
                await call(sender.app.note, ledger_id, 3)
            await asyncio.sleep(1.5)
            assert receiver.processor.counts["applied"] == 10  # held back while paused

            def link() -> dict:
                links = sync.get("/admin/links", headers=AUDITOR).json()["links"]
                return next((x for x in links if x["from_place"] == ORIGIN), {})

            await eventually(lambda: link().get("state") == "paused", message="paused in view")
            assert sync.post(f"/admin/links/{LINK}/resume", headers=ADMIN).status_code == 200
            await eventually(lambda: receiver.processor.counts["applied"] == 15, timeout=20)

            refused = sync.post(
                f"/admin/receivers/o2h/{HOST}/replay", json={"from_sequence": 1}, headers=ADMIN
            )
            assert (
                refused.status_code == 409 and refused.json()["error"]["code"] == "link.not_paused"
            )
            assert sync.post(
                f"/admin/receivers/o2h/{HOST}/pause", json={}, headers=ADMIN
            ).is_success
            # From a thread: the replay waits for the receiver (on this loop) to report it holds.
            replayed = await asyncio.to_thread(
                sync.post,
                f"/admin/receivers/o2h/{HOST}/replay",
                json={"from_sequence": 1},
                headers=ADMIN,
            )
            assert replayed.status_code == 200, replayed.text
            # Every replayed message is already tracked: 15 no-ops, nothing applied twice.
            await eventually(lambda: receiver.processor.counts["duplicate"] >= 15, timeout=20)
            assert receiver.processor.counts["applied"] == 15
            assert all(receiver.app.mirror(str(i)) == [1, 2, 3] for i in ids)
            await eventually(
                lambda: link().get("state") == "running", message="running again", shown=link
            )
            view = link()
            assert view["applied"] == 15 and view["last_applied_position"] > 0
            assert view["last_published_position"] >= view["last_applied_position"]
            assert view["lag_messages"] == 0
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()


async def test_a_status_that_lies_costs_its_place_its_row_not_the_view(
    schema_url, nats_server
) -> None:
    """Statuses no place writes (not JSON, no service, a place speaking as another, counts out
    of range) beside two real places: the links view, the metrics and readiness stay up, the
    real link keeps its row, and the liars get none. Then the sync service restarts on them."""
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    settings = settings_for("sync", schema_url("s"), nats_server.url)
    hostile = {
        "inflow.310112": b"\x00\xff not json",
        "outflow.440305": json.dumps({"place": "440305", "at": 1.0}).encode(),
        "inflow.320000": json.dumps(
            {"service": "inflow", "place": "371326", "at": time.time()}
        ).encode(),
        "inflow.330000": json.dumps(
            {
                "service": "inflow",
                "place": "330000",
                "at": time.time(),
                "receiver": {"sources": {ORIGIN: {"applied": 10**30}}},
            }
        ).encode(),
    }
    try:
        await sender.agent.start()
        await receiver.agent.start()
        ids = [await call(sender.app.open_and_note, HOST, 2) for _ in range(3)]
        await eventually(lambda: receiver.processor.counts["applied"] == 6)
        nc = await nats.connect(nats_server.url)
        kv = await nc.jetstream().key_value(STATUS_BUCKET)
        for key, value in hostile.items():
            await kv.put(key, value)
        await nc.close()
        for _ in range(2):  # the second time on a restarted sync service
            with running("sync", settings) as sync:

                def rows() -> list[dict]:
                    answer = sync.get("/admin/links", headers=AUDITOR)
                    assert answer.status_code == 200, answer.text
                    return answer.json()["links"]

                shown = await eventually(
                    lambda: [r for r in rows() if r["applied"] == 6], message="the real link"
                )
                assert [(r["from_place"], r["to_place"]) for r in shown] == [(ORIGIN, HOST)]
                places = {p for r in rows() for p in (r["from_place"], r["to_place"])}
                assert not places & {"310112", "440305", "320000", "330000"}, places
                assert sync.get("/metrics").status_code == 200
                ready = sync.get("/readyz")
                assert ready.status_code == 200, ready.text
        assert all(receiver.app.mirror(str(i)) == [1, 2] for i in ids)
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()
