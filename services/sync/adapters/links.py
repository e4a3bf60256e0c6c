"""Links: one per direction and place pair, built from the places' own status reports, the
receivers' JetStream consumers, the operators' control keys and the stored dead letters.

Positions are JetStream stream sequences: the last one the sender had acknowledged for this
destination, and the last one the receiver settled from this source. `lag_messages` is what the
sender has not relayed yet plus what the receiver's consumer has not yet had acknowledged; the
consumer is per receiving place, so with several sources flowing into one place that part is
shared by them. `lag_seconds` is how far the applied facts trail the published ones in event time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.messaging.topology import receiver_durable

STALE_AFTER = 10.0
Key = tuple[str, str, str]


def links_view(
    statuses: dict[str, dict[str, Any]],
    consumers: dict[str, dict[str, Any]],
    control: dict[str, str] | None = None,
    dead_letters: list[dict[str, Any]] | None = None,
    throughput: Callable[[Key], float] | None = None,
) -> list[dict[str, Any]]:
    links: dict[Key, dict[str, Any]] = {}
    now = time.time()

    def link(key: Key) -> dict[str, Any]:
        return links.setdefault(key, _blank(*key))

    for status in statuses.values():
        relay = status.get("relay") or {}
        direction = "o2h" if status["service"] == "outflow" else "h2o"
        for to_place, published in (relay.get("per_destination") or {}).items():
            item = link((direction, status["place"], to_place))
            item.update(
                published=published,
                sender_backlog=relay.get("backlog", 0),
                last_published_position=(relay.get("last_stream_seq") or {}).get(to_place, 0),
                last_published_event_time=(relay.get("last_event_time") or {}).get(to_place),
                sender_seen=now - status.get("at", 0) < STALE_AFTER,
                sender_role=status.get("role"),
            )
            _error(
                item, relay.get("errors", 0), relay.get("last_error"), relay.get("last_error_at")
            )
            item["sender_healthy"] = relay.get("healthy", not relay.get("last_error"))
    for status in statuses.values():
        receiver = status.get("receiver") or {}
        direction = "h2o" if status["service"] == "outflow" else "o2h"
        consumer = consumers.get(receiver_durable(status["service"], status["place"]), {})
        for from_place, counts in (receiver.get("sources") or {}).items():
            item = link((direction, from_place, status["place"]))
            item.update(
                applied=counts.get("applied", 0),
                duplicates=counts.get("duplicate", 0),
                dead_lettered=counts.get("dead_letter", 0),
                parked=counts.get("parked_now", 0),
                last_applied_position=counts.get("last_stream_seq", 0),
                last_applied_at=counts.get("last_applied_at"),
                last_applied_event_time=counts.get("last_event_time"),
                receiver_healthy=not receiver.get("last_error"),
                receiver_seen=now - status.get("at", 0) < STALE_AFTER,
            )
            _error(
                item,
                receiver.get("errors", 0),
                receiver.get("last_error"),
                receiver.get("last_error_at"),
            )
        for item in links.values():
            if item["to_place"] == status["place"] and item["direction"] == direction:
                item["receiver_pending"] = consumer.get("pending", 0) + consumer.get(
                    "ack_pending", 0
                )
                item["receiver_seen"] = now - status.get("at", 0) < STALE_AFTER
    for key, value in (control or {}).items():
        parts = key.split(".")
        if value != "1" or len(parts) not in (3, 4):
            continue
        direction = "o2h" if parts[1] == "inflow" else "h2o"
        if len(parts) == 4:
            link((direction, parts[3], parts[2]))["paused"] = "link"
        else:
            for item in links.values():
                if item["direction"] == direction and item["to_place"] == parts[2]:
                    item["paused"] = "receiver"
    for letters in dead_letters or []:
        key = (letters["direction"], letters["from_place"], letters["to_place"])
        link(key).update(
            dead_letters_open=letters["open"],
            oldest_dead_letter_age_seconds=letters["oldest_age_seconds"],
        )
    for key, item in links.items():
        _finish(item, now, throughput(key) if throughput else 0.0)
    return sorted(links.values(), key=lambda i: (i["direction"], i["from_place"], i["to_place"]))


def _error(item: dict[str, Any], count: int, last: str | None, at: float | None) -> None:
    item["error_count"] += count or 0
    if at and (item["last_error_at"] is None or at > item["last_error_at"]):
        item["last_error"], item["last_error_at"] = last, at


def _finish(item: dict[str, Any], now: float, rate: float) -> None:
    lag = max(item["sender_backlog"], 0) + max(item["receiver_pending"], 0)
    item["lag_messages"] = lag
    published_t, applied_t = item["last_published_event_time"], item["last_applied_event_time"]
    if not lag:
        item["lag_seconds"] = 0.0
    elif published_t and applied_t:
        item["lag_seconds"] = round(max(published_t - applied_t, 0.0), 1)
    else:
        since = item["last_applied_at"] or published_t
        item["lag_seconds"] = round(max(now - since, 0.0), 1) if since else 0.0
    item["throughput_per_second"] = rate
    item["error_count"] += item["dead_letters_open"]
    if item["paused"]:
        item["state"] = "paused"
    elif not item["sender_healthy"] or not item["receiver_healthy"]:
        item["state"] = "error"
    elif not item["receiver_seen"]:
        item["state"] = "receiver_down"
    elif lag or item["parked"]:
        item["state"] = "catching_up"
    else:
        item["state"] = "running"


def _blank(direction: str, from_place: str, to_place: str) -> dict[str, Any]:
    return {
        "direction": direction,
        "from_place": from_place,
        "to_place": to_place,
        "state": "running",
        "paused": None,
        "published": 0,
        "applied": 0,
        "duplicates": 0,
        "dead_lettered": 0,
        "dead_letters_open": 0,
        "oldest_dead_letter_age_seconds": None,
        "parked": 0,
        "sender_backlog": 0,
        "receiver_pending": 0,
        "last_published_position": 0,
        "last_applied_position": 0,
        "last_published_event_time": None,
        "last_applied_event_time": None,
        "last_applied_at": None,
        "error_count": 0,
        "last_error": None,
        "last_error_at": None,
        "sender_healthy": True,
        "receiver_healthy": True,
        "sender_seen": False,
        "receiver_seen": False,
        "sender_role": None,
    }
