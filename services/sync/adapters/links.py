"""Links: one per direction and place pair, built from the places' own status reports, the
receivers' JetStream consumers, the operators' control keys, the stored dead letters and replay
gaps, and counts read off the events stream.

Positions are JetStream stream sequences: the last one the sender had acknowledged for this
destination, and the last one the receiver settled from this source. `lag_messages` is what the
sender has not relayed yet plus what the receiver's consumer has not yet had acknowledged; the
consumer is per receiving place, so with several sources flowing into one place that part is
shared by them. `lag_seconds` is how far the applied facts trail the published ones in event time.

A state is only as true as what it is built from (docs/sync.md, "Links"): when the sync service
cannot read NATS, or a place's status is older than `stale_after`, the link is `unknown` and
`state_reason` says why; a place's error shows while it is recent and nothing succeeded since.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.messaging.topology import receiver_durable

Key = tuple[str, str, str]
SERVICES = {"o2h": ("outflow", "inflow"), "h2o": ("inflow", "outflow")}  # (sender, receiver)


@dataclass
class Sight:
    """How fresh the sync service's own view is, and how to judge the places' reports."""

    observed_at: dict[str, float] = field(default_factory=dict)  # status key → when it changed
    problem: str | None = None  # why the sync service's own view is not current
    stale_after: float = 3.0
    error_hold: float = 10.0
    stream_counts: dict[Key, int] = field(default_factory=dict)
    dead_letter_totals: dict[Key, int] = field(default_factory=dict)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    places: set[str] | None = None  # the topology: control keys of other places are ignored


def links_view(
    statuses: dict[str, dict[str, Any]],
    consumers: dict[str, dict[str, Any]],
    control: dict[str, str] | None = None,
    dead_letters: list[dict[str, Any]] | None = None,
    throughput: Callable[[Key], float] | None = None,
    sight: Sight | None = None,
) -> list[dict[str, Any]]:
    sight = sight or Sight()
    links: dict[Key, dict[str, Any]] = {}
    now = time.time()

    def link(key: Key) -> dict[str, Any]:
        return links.setdefault(key, _blank(*key))

    def age(key: str, status: dict[str, Any]) -> float:
        return round(max(now - sight.observed_at.get(key, status.get("at", 0)), 0.0), 1)

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
                sender_role=status.get("role"),
            )
            _error(item, relay, status, sight.error_hold)
            item["sender_healthy"] = not _current(relay, status, sight.error_hold)
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
            )
        for item in links.values():
            if item["to_place"] == status["place"] and item["direction"] == direction:
                item["receiver_pending"] = consumer.get("pending", 0) + consumer.get(
                    "ack_pending", 0
                )
                _error(item, receiver, status, sight.error_hold)
                item["receiver_healthy"] = not _current(receiver, status, sight.error_hold)
    _control(link, links, control or {}, sight.places)
    for letters in dead_letters or []:
        key = (letters["direction"], letters["from_place"], letters["to_place"])
        link(key).update(
            dead_letters_open=letters["open"],
            oldest_dead_letter_age_seconds=letters["oldest_age_seconds"],
        )
    for key, total in sight.dead_letter_totals.items():
        # The stored dead letters outlive every process: the count never restarts from zero.
        item = link(key)
        item["dead_lettered"] = max(item["dead_lettered"], total)
    for gap in sight.gaps:
        item = link((gap["direction"], gap["from_place"], gap["to_place"]))
        item["replay_gap"] += gap["skipped"]
        item["gaps"].append(gap["id"])
    for key, item in links.items():
        # Each side by its own service's status, whether or not it has counted this link yet.
        for side, service in zip(("sender", "receiver"), SERVICES[key[0]], strict=True):
            place = item["from_place"] if side == "sender" else item["to_place"]
            name = f"{service}.{place}"
            item[side] = f"{service} {place}"
            if name in statuses:
                item[f"{side}_status_age_seconds"] = age(name, statuses[name])
        item["in_stream"] = sight.stream_counts.get(key)
        _finish(item, now, throughput(key) if throughput else 0.0, sight)
    return sorted(links.values(), key=lambda i: (i["direction"], i["from_place"], i["to_place"]))


def _control(
    link: Callable[[Key], dict[str, Any]], links: dict, control: dict[str, str],
    places: set[str] | None,
) -> None:  # fmt: skip
    for key, value in control.items():
        parts = key.split(".")
        if value != "1" or len(parts) not in (3, 4):
            continue
        if places is not None and not set(parts[2:]) <= places:
            continue  # a key left for a place outside the topology (before it was checked)
        direction = "o2h" if parts[1] == "inflow" else "h2o"
        if len(parts) == 4:
            link((direction, parts[3], parts[2]))["paused"] = "link"
        else:
            for item in links.values():
                if item["direction"] == direction and item["to_place"] == parts[2]:
                    item["paused"] = "receiver"


def _current(part: dict[str, Any], status: dict[str, Any], hold: float) -> bool:
    """Is the part's last error still the truth? Not once it reports success after it (a relay's
    `healthy`, or a `last_ok_at` later than the error), nor once `hold` seconds of the place's
    own clock have passed without another: an idle link after an outage has nothing to succeed
    at, and a persisting fault keeps recording errors."""
    last, at = part.get("last_error"), part.get("last_error_at")
    if not last or not at:
        return False
    if part.get("healthy") is True or (part.get("last_ok_at") or 0) > at:
        return False
    return status.get("at", 0) - at < hold


def _error(item: dict[str, Any], part: dict[str, Any], status: dict[str, Any], hold: float) -> None:
    item["error_count"] += part.get("errors", 0) or 0
    at = part.get("last_error_at")
    if at and (item["last_error_at"] is None or at > item["last_error_at"]):
        item["last_error"], item["last_error_at"] = part.get("last_error"), at
    if _current(part, status, hold):
        item["current_error"] = part.get("last_error")


def _finish(item: dict[str, Any], now: float, rate: float, sight: Sight) -> None:
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
    item["sender_seen"] = _fresh(item["sender_status_age_seconds"], sight)
    item["receiver_seen"] = _fresh(item["receiver_status_age_seconds"], sight)
    item["state"], item["state_reason"] = _state(item, lag, sight)


def _fresh(age: float | None, sight: Sight) -> bool:
    return age is not None and age <= sight.stale_after


def _state(item: dict[str, Any], lag: int, sight: Sight) -> tuple[str, str | None]:
    if sight.problem:
        return "unknown", sight.problem
    if item["paused"]:
        return "paused", f"paused by an operator ({item['paused']})"
    for side in ("receiver", "sender"):
        if not item[f"{side}_seen"]:
            age = item[f"{side}_status_age_seconds"]
            since = f"for {age:.0f}s" if age is not None else "yet"
            return "unknown", f"no status from {item[side]} {since}: down, or cut off from NATS"
    if item["current_error"]:
        return "error", item["current_error"]
    if item["replay_gap"]:
        return "gap", (
            f"{item['replay_gap']} fact(s) skipped by a replay (allow_gap), not delivered since"
        )
    if lag or item["parked"]:
        return "catching_up", f"{lag} message(s) pending, {item['parked']} parked"
    return "running", None


def _blank(direction: str, from_place: str, to_place: str) -> dict[str, Any]:
    return {
        "direction": direction,
        "from_place": from_place,
        "to_place": to_place,
        "state": "running",
        "state_reason": None,
        "paused": None,
        "published": 0,
        "in_stream": None,
        "applied": 0,
        "duplicates": 0,
        "dead_lettered": 0,
        "dead_letters_open": 0,
        "oldest_dead_letter_age_seconds": None,
        "parked": 0,
        "replay_gap": 0,
        "gaps": [],
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
        "current_error": None,
        "sender": None,
        "receiver": None,
        "sender_healthy": True,
        "receiver_healthy": True,
        "sender_seen": False,
        "receiver_seen": False,
        "sender_status_age_seconds": None,
        "receiver_status_age_seconds": None,
        "sender_role": None,
    }
