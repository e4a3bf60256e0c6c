"""Links: one per direction and place pair, built from the places' own status reports."""

from __future__ import annotations

import time
from typing import Any

from shared.messaging.topology import receiver_durable

STALE_AFTER = 10.0


def links_view(
    statuses: dict[str, dict[str, Any]], consumers: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per (direction, from, to): published by the sender, applied by the receiver, and the lag."""
    links: dict[tuple[str, str, str], dict[str, Any]] = {}
    now = time.time()
    for status in statuses.values():
        relay = status.get("relay") or {}
        direction = "o2h" if status["service"] == "outflow" else "h2o"
        for to_place, published in (relay.get("per_destination") or {}).items():
            link = links.setdefault(
                (direction, status["place"], to_place), _blank(direction, status["place"], to_place)
            )
            link["published"] = published
            link["sender_backlog"] = relay.get("backlog", 0)
            link["last_published_position"] = relay.get("position", 0)
            link["sender_error"] = relay.get("last_error")
            link["sender_seen"] = now - status.get("at", 0) < STALE_AFTER
    for status in statuses.values():
        receiver = status.get("receiver") or {}
        direction = "h2o" if status["service"] == "outflow" else "o2h"
        consumer = consumers.get(receiver_durable(status["service"], status["place"]), {})
        for from_place, counts in (receiver.get("sources") or {}).items():
            link = links.setdefault(
                (direction, from_place, status["place"]),
                _blank(direction, from_place, status["place"]),
            )
            link.update(
                applied=counts.get("applied", 0),
                duplicates=counts.get("duplicate", 0),
                dead_letters=counts.get("dead_letter", 0),
                last_applied_at=counts.get("last_applied_at"),
            )
            link["receiver_pending"] = consumer.get("pending", 0) + consumer.get("ack_pending", 0)
            link["receiver_error"] = receiver.get("last_error")
            link["parked"] = receiver.get("parked_now", 0)
            link["receiver_seen"] = now - status.get("at", 0) < STALE_AFTER
    for link in links.values():
        lag = max(link["sender_backlog"], 0) + max(link["receiver_pending"], 0)
        link["lag_messages"] = lag
        if link["sender_error"] or link["receiver_error"]:
            link["state"] = "error"
        elif not link["receiver_seen"]:
            link["state"] = "receiver_down"
        elif lag or link["parked"]:
            link["state"] = "catching_up"
        else:
            link["state"] = "running"
    return sorted(
        links.values(), key=lambda link: (link["direction"], link["from_place"], link["to_place"])
    )


def _blank(direction: str, from_place: str, to_place: str) -> dict[str, Any]:
    return {
        "direction": direction,
        "from_place": from_place,
        "to_place": to_place,
        "published": 0,
        "applied": 0,
        "duplicates": 0,
        "dead_letters": 0,
        "parked": 0,
        "sender_backlog": 0,
        "receiver_pending": 0,
        "last_published_position": 0,
        "last_applied_at": None,
        "sender_error": None,
        "receiver_error": None,
        "sender_seen": False,
        "receiver_seen": False,
    }
