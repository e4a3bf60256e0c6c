"""Who owns a member's record, by what each side has said on the exchange.

The origin owns its member until it records the transfer receipt (回执) — on paper, or from the
host's own receipt — and says so (`transfer.receipt_recorded`); a host owns the member once it
has received them (`transfer.receipt_returned`, also sent when it took the record over on the
origin's receipt). Between the two facts one place is briefly missing or doubled; a mismatch
that stays says a fact was refused or lost (docs/flows.md, "Transfer of membership").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.sync.domain.mismatches import Mismatch, candidate

#: Origin statuses in which the origin no longer owns the record ("unknown": it said nothing).
NOT_OWNED_BY_ORIGIN = ("unknown", "transferred", "removed")


def owners(origin_place: str, origin_status: str, hosts: dict[str, dict[str, Any]]) -> list[str]:
    received = [place for place, side in hosts.items() if side.get("state") == "received"]
    return received if origin_status in NOT_OWNED_BY_ORIGIN else [origin_place, *received]


def ownership_mismatches(
    *,
    origin_place: str,
    origin_status: str,
    origin_host: str | None,
    origin_since: date | None,
    hosts: dict[str, dict[str, Any]],
    letters: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    found = owners(origin_place, origin_status, hosts)
    if len(found) >= 2:
        host = next(p for p in found if p != origin_place)
        side = hosts[host]
        since = side.get("received_on") or origin_since or date.min
        others = ", ".join(p for p in found if p != host)
        key = f"letter:{side['letter_no']}" if side.get("letter_no") else host
        detail = f"received at host {host}, still owned by {others}"
        return [candidate(Mismatch.OWNED_BY_TWO, host, since, since, key, detail)]
    if found or origin_status != "transferred" or not origin_host:
        return []
    since = origin_since or date.min
    closed = [no for no, letter in letters.items() if letter.get("origin_closed")]
    key = f"letter:{closed[-1]}" if closed else origin_host
    state = hosts.get(origin_host, {}).get("state") or "unknown"
    detail = f"closed at the origin on the receipt; host {origin_host} holds it as {state}"
    return [candidate(Mismatch.OWNED_BY_NONE, origin_host, since, since, key, detail)]
