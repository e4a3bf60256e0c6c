"""A replay never skips facts silently: starting after the receiver's acknowledged floor + 1 is
refused with how many facts it would skip; with `allow_gap` and a reason it goes ahead, and the
gap shows at once on the link (state `gap`) and in the reconciliation report, until a replay from
an earlier sequence covers it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nats

from services.sync.adapters.gaps import GapStore
from shared.eventstore import sqlalchemy_engine
from shared.messaging.topology import EVENTS_STREAM
from tests.support.harness import auth, running, settings_for
from tests.sync.kit import HOST, ORIGIN, Receiver, Sender, eventually

ADMIN, AUDITOR = auth("sync_admin"), auth("auditor")
REPLAY = f"/admin/receivers/o2h/{HOST}/replay"


def call(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    return asyncio.to_thread(fn, *args, **kwargs)


async def published(url: str, count: int, timeout: float = 20.0) -> int:
    """The events stream's last sequence once it holds `count` messages (bounded wait)."""
    nc = await nats.connect(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            last = (await nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq
            if last >= count or time.monotonic() > deadline:
                return last
            await asyncio.sleep(0.1)
    finally:
        await nc.close()


async def test_a_replay_that_would_skip_facts_is_refused_or_recorded(
    schema_url, nats_server
) -> None:
    sender = Sender(schema_url("o"), nats_server.url)
    receiver = Receiver(schema_url("h"), nats_server.url)
    settings = settings_for("sync", schema_url("s"), nats_server.url)
    try:
        await sender.agent.start()
        await receiver.agent.start()
        with running("sync", settings) as sync:

            def link() -> dict[str, Any]:
                links = sync.get("/admin/links", headers=AUDITOR).json()["links"]
                return next((x for x in links if x["from_place"] == ORIGIN), {})

            def post(path: str, body: dict[str, Any]) -> Any:
                return sync.post(path, json=body, headers=ADMIN)

            ids = [await call(sender.app.open_and_note, HOST, 2) for _ in range(3)]
            await eventually(lambda: receiver.processor.counts["applied"] == 6, message="6 applied")
            await eventually(lambda: link().get("state") == "running", message="link running")
            # Three facts held back at the receiver (a paused link is never acknowledged).
            held = await call(post, f"/admin/links/o2h/{ORIGIN}/{HOST}/pause", {"reason": "drill"})
            assert held.status_code == 200, held.text
            await eventually(lambda: ORIGIN in receiver.agent.paused_sources, message="held")
            for ledger_id in ids:
                await call(sender.app.note, ledger_id, 3)
            last = await published(nats_server.url, 9)
            assert last == 9
            paused = await call(post, f"/admin/receivers/o2h/{HOST}/pause", {"reason": "drill"})
            assert paused.status_code == 200, paused.text

            refused = await call(post, REPLAY, {"from_sequence": last + 1})
            assert refused.status_code == 422, refused.text
            error = refused.json()["error"]
            assert error["code"] == "replay.would_skip"
            assert "skip up to 3 fact(s)" in error["message"], error
            assert receiver.agent.paused  # refused: nothing changed, still paused

            skipped = await call(
                post,
                REPLAY,
                {"from_sequence": last + 1, "allow_gap": True, "reason": "drill: skip on record"},
            )
            assert skipped.status_code == 200, skipped.text
            done = skipped.json()
            assert done["skipped"] == 3 and done["skipped_by_source"] == {ORIGIN: 3}
            resumed = await call(post, f"/admin/links/o2h/{ORIGIN}/{HOST}/resume", {})
            assert resumed.status_code == 200, resumed.text
            view = await eventually(
                lambda: link().get("state") == "gap" and link(), message="the gap on the link"
            )
            assert view["replay_gap"] == 3 and "skipped by a replay" in view["state_reason"]
            report = sync.get("/admin/reconciliation", headers=AUDITOR).json()
            assert report["mismatches"]["by_kind"]["replay_gap"] == 3
            assert report["mismatches"]["total"] >= 3
            assert report["gaps"][0]["reason"] == "drill: skip on record"
            await asyncio.sleep(1.0)
            assert all(receiver.app.mirror(str(i)) == [1, 2] for i in ids)  # really skipped

            # A replay from before the gap delivers the skipped facts and closes it.
            assert (
                await call(post, f"/admin/receivers/o2h/{HOST}/pause", {"reason": "cover"})
            ).is_success
            covered = await call(post, REPLAY, {"from_sequence": 1})
            assert covered.status_code == 200, covered.text
            assert covered.json()["gaps_closed"] == 1 and covered.json()["skipped"] == 0
            await eventually(
                lambda: all(receiver.app.mirror(str(i)) == [1, 2, 3] for i in ids),
                message="the skipped facts applied",
            )
            view = await eventually(
                lambda: link().get("state") == "running" and link(), message="running again"
            )
            assert view["replay_gap"] == 0 and view["gaps"] == []
            report = sync.get("/admin/reconciliation", headers=AUDITOR).json()
            assert "replay_gap" not in report["mismatches"]["by_kind"] and report["gaps"] == []
    finally:
        await sender.agent.stop()
        await receiver.agent.stop()
        sender.close()
        receiver.close()


def test_a_gap_closes_when_anti_entropy_finds_the_link_agreeing(tmp_path) -> None:
    """Only a run that started after the gap was recorded, and only on the link it checked."""
    gaps = GapStore(sqlalchemy_engine(f"sqlite:///{tmp_path / 'gaps.db'}"))
    before = time.time() - 60
    [gap] = gaps.record("o2h", HOST, 5, 9, {ORIGIN: 3}, "admin", "drill")
    other = gaps.record("o2h", "310112", 5, 9, {ORIGIN: 2}, "admin", "drill")
    assert gaps.close_agreed("o2h", ORIGIN, HOST, since=before) == 0  # an older run
    assert {g["id"] for g in gaps.open_gaps()} == {gap, *other}
    assert gaps.close_agreed("o2h", ORIGIN, HOST, since=time.time() + 1) == 1
    assert [g["id"] for g in gaps.open_gaps()] == other
    assert gaps.close_covered("o2h", "310112", 6, "admin") == 0  # starts after the gap
    assert gaps.close_covered("o2h", "310112", 5, "admin") == 1
    assert gaps.open_gaps() == []
