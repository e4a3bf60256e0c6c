"""The anti-entropy comparison without NATS: the digest tree finds exactly the differing streams
by descending only where digests differ, and a sync service and a place of different releases
still understand each other (the previous protocol's 64 buckets).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from bench.aesim import responder
from services.sync.adapters.antientropy import descend
from shared.messaging.aetree import LEAF, key_of, nodes, split, streams_under
from shared.messaging.antientropy import AntiEntropyResponder, digest, in_buckets


def place(sent: dict[str, int], applied: dict[str, int]) -> AntiEntropyResponder:
    return responder(sent, applied)


def previous_release(positions: dict[str, int]) -> Any:
    """A place of the previous release: 64 buckets, `nodes` and `list` unknown to it."""

    async def ask(request: dict[str, Any]) -> dict[str, Any]:
        if "buckets" in request:
            return {"streams": in_buckets(positions, request["buckets"], 64)}
        return {"digest": digest(positions, 64), "streams": len(positions)}

    return ask


def compare(sent: Any, applied: Any) -> tuple[Any, int, int, int, list[dict]]:
    asked: list[dict] = []

    def logged(side: Any) -> Any:
        async def ask(request: dict[str, Any]) -> dict[str, Any]:
            asked.append(request)
            return await side(request)

        return ask

    async def run() -> Any:
        return await descend(logged(sent), logged(applied))

    return (*asyncio.run(run()), asked)


def side(responder: AntiEntropyResponder, op: str) -> Any:
    async def ask(request: dict[str, Any]) -> dict[str, Any]:
        return await responder.answer({"op": op, "peer": "peer", **request})

    return ask


def streams(n: int) -> dict[str, int]:
    return {str(uuid.UUID(int=i + 1)): i + 1 for i in range(n)}


def test_agreeing_ends_cost_one_root_digest_each() -> None:
    both = streams(5000)
    found, sent_count, applied_count, differing, asked = compare(
        side(place(both, {}), "sent"), side(place({}, dict(both)), "applied")
    )
    assert (found, sent_count, applied_count, differing) == (None, 5000, 5000, 0)
    assert asked == [{"nodes": [""]}, {"nodes": [""]}]


def test_descent_lists_only_the_differing_streams_neighbourhood() -> None:
    sent = streams(5000)
    applied = dict(sent)
    behind, missing = list(sent)[7], list(sent)[4000]
    applied[behind] -= 1
    del applied[missing]
    applied["ahead-only"] = 3
    found, _, applied_count, differing, asked = compare(
        side(place(sent, {}), "sent"), side(place({}, applied), "applied")
    )
    assert applied_count == 5000 and differing == 3
    under = streams_under(sent, found["list"])
    assert {behind, missing} <= set(under) and len(under) <= 3 * LEAF
    assert "ahead-only" in streams_under(applied, found["list"])
    # Never a whole level of the tree: at most 16 children of each differing node.
    assert all(len(r.get("nodes", [])) <= 3 for r in asked)


def test_tree_digests_are_order_free_and_see_a_changed_position() -> None:
    positions = streams(300)
    reordered = dict(reversed(list(positions.items())))
    assert nodes(positions, [""], children=True) == nodes(reordered, [""], children=True)
    changed = dict(positions, **{next(iter(positions)): 99})
    listed, deeper = split(nodes(positions, [""], False), nodes(changed, [""], False))
    assert deeper == [""] and listed == []
    children = split(nodes(positions, [""], True), nodes(changed, [""], True))
    assert children == ([key_of(next(iter(positions)))[:1]], [])


def test_a_new_sync_service_compares_buckets_with_a_place_of_the_previous_release() -> None:
    sent = streams(300)
    applied = dict(sent)
    lost = list(sent)[42]
    del applied[lost]
    found, sent_count, applied_count, differing, _ = compare(
        previous_release(sent), side(place({}, applied), "applied")
    )
    assert (sent_count, applied_count, differing) == (300, 299, 1)
    assert lost in in_buckets(sent, found["buckets"], 64)


def test_a_place_answers_the_previous_release_of_the_sync_service() -> None:
    positions = streams(100)
    responder = place(positions, {})
    old = asyncio.run(responder.answer({"op": "sent", "peer": "peer", "of": 64}))
    assert old == {"digest": digest(positions, 64), "streams": 100}
    listed = asyncio.run(responder.answer({"op": "sent", "peer": "peer", "buckets": [3]}))
    assert listed == {"streams": in_buckets(positions, [3], 64)}


def test_a_place_refuses_malformed_prefixes() -> None:
    responder = place(streams(3), {})
    for bad in (["xyz"], "0", ["0" * 17], ["0"] * 4097):
        try:
            asyncio.run(responder.answer({"op": "sent", "peer": "peer", "nodes": bad}))
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")
