"""An idempotency record: the stored result of a write, keyed by the client's Idempotency-Key.

Its id is derived from the key, and it is saved in the same transaction as the write's effect,
so a request is applied at most once; a retry finds the record and gets the stored result.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


def idempotency_id_for(place: str, key: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:idempotency:outflow:{place}:{key}")


class IdempotencyRecord(Aggregate):
    @staticmethod
    def create_id(place: str, key: str, **_: object) -> UUID:
        return idempotency_id_for(place, key)

    @event("Recorded")
    def __init__(
        self, *, place: str, key: str, fingerprint: str, status_code: int, body: dict[str, Any]
    ) -> None:
        self.place, self.key, self.fingerprint = place, key, fingerprint
        self.status_code, self.body = status_code, body
