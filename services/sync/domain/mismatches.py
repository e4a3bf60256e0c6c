"""The kinds of disagreement the reconciliation shows between an origin and its hosts."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any


class Mismatch(StrEnum):
    EXPECTED_NOT_REPORTED = "expected_not_reported"
    REPORTED_UNKNOWN_TO_ORIGIN = "reported_unknown_to_origin"
    LEFT_HOST_STILL_DEPARTED = "left_host_still_departed"
    TRANSFER_LETTER_NOT_RECEIVED = "transfer_letter_not_received"
    # Exactly one place owns a member: the origin until the transfer receipt (回执), the
    # receiving host after it (docs/flows.md, "Transfer of membership").
    OWNED_BY_NONE = "owned_by_none"
    OWNED_BY_TWO = "owned_by_two"


def candidate(
    kind: Mismatch, host: str, since: date, due_on: date, key: str, detail: str = ""
) -> dict[str, Any]:
    """A disagreement about one host, holding from `due_on` on, explained by evidence `key`."""
    return {
        "kind": kind.value,
        "host_place": host,
        "since": since,
        "due_on": due_on,
        "evidence_key": key,
        "detail": detail,
    }
