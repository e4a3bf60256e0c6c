"""Evidence: which wire facts (by CloudEvents id) explain what the reconciler believes.

Only identifiers, types, places, sequence numbers and times: never personal data.
"""

from __future__ import annotations

from typing import Any

MAX_EVIDENCE = 20


def evidence_item(
    *, event_id: str, type: str, from_place: str, to_place: str, seq: int, at: str
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type,
        "from_place": from_place,
        "to_place": to_place,
        "seq": seq,
        "at": at,
    }


def appended(items: list[dict[str, Any]], item: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The list with `item` added, bounded so an aggregate's state stays small."""
    if item is None:
        return items
    return (items + [item])[-MAX_EVIDENCE:]
