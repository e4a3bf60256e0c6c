"""An idempotency record: which write a client's Idempotency-Key named, and what it produced.

Its id is derived from the key, and it is saved in the same transaction as the write's effect,
so a request is applied at most once; a retry finds the record and is answered with the result
the write produced (the record it changed, as it was just after the write), never applied again.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.fund import fund_id_for


def idempotency_id_for(place: str, key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:idempotency:outflow:{place}:{key}")


def _result_of_stored_body(body: dict[str, Any]) -> UUID:
    """The record a version-1 response body showed: a payout application, or the fund."""
    if "application_id" in body:
        return UUID(str(body["application_id"]))
    return fund_id_for(str(body["county"]))


class IdempotencyRecord(Aggregate):
    class Recorded(Aggregate.Created):
        """The write a key named: its fingerprint, and the record it produced or changed with
        that record's version just after the write (None: not noted, see the upcast below)."""

        class_version = 2
        place: str
        key: str
        fingerprint: str
        result_id: UUID
        result_version: int | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 stored the HTTP status and response body, which are not facts of the
            # domain. Stored records stay readable: the body names the record (an application
            # or the fund); the version was not noted, so a retry shows that record as it is now.
            body = state.pop("body")
            state.pop("status_code", None)
            state["result_id"] = _result_of_stored_body(body)
            state["result_version"] = None

    @staticmethod
    def create_id(place: str, key: str, **_: object) -> UUID:
        return idempotency_id_for(place, key)

    @event(Recorded)
    def __init__(
        self,
        *,
        place: str,
        key: str,
        fingerprint: str,
        result_id: UUID,
        result_version: int | None,
    ) -> None:
        self.place, self.key, self.fingerprint = place, key, fingerprint
        self.result_id, self.result_version = result_id, result_version
