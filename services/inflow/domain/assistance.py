"""Hardship assistance requests (困难流动党员救助) raised by the host, decided by the origin.

The host sees the hardship and applies; the origin reviews, approves, gives public notice and
pays from its fund. The host only follows the status the origin sends back.
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation
from shared.validation import validate_amount_fen
from shared.validation.bounds import check_amount_ceiling

TERMINAL = ("paid", "rejected")


class AssistanceRequest(Aggregate):
    @event("Requested")
    def __init__(
        self,
        *,
        member_record_id: str,
        host_place: str,
        origin_place: str,
        origin_member_id: str,
        amount_fen: int,
        reason: str,
        requested_on: date,
        requested_by: str,
        idempotency_key: str = "",
    ) -> None:
        self.member_record_id, self.host_place = member_record_id, host_place
        self.idempotency_key = idempotency_key
        self.origin_place, self.origin_member_id = origin_place, origin_member_id
        self.amount_fen, self.reason, self.requested_on = amount_fen, reason, requested_on
        self.status = "requested"

    @classmethod
    def raise_for(  # type: ignore[no-untyped-def]
        cls,
        *,
        requested_on: date,
        today: date,
        amount_fen: int,
        ceiling: int | None = None,
        **rest: str,
    ):
        """``ceiling``: the configured most per transaction; the origin applies its own too."""
        if requested_on > today:
            raise RuleViolation("request date is in the future", "assistance.future_date")
        amount = validate_amount_fen(amount_fen)
        if ceiling is not None:
            check_amount_ceiling(amount, ceiling)
        return cls(requested_on=requested_on, amount_fen=amount, **rest)

    @staticmethod
    def create_id(
        *, host_place: str, member_record_id: str, idempotency_key: str = "", **_: object
    ) -> UUID:
        """With a client's key, a retried request is the same request, never a second one."""
        if not idempotency_key:
            return uuid4()
        return request_id_for(host_place, member_record_id, idempotency_key)

    def same_request(self, *, amount_fen: int, reason: str, requested_on: date) -> bool:
        return (self.amount_fen, self.reason, self.requested_on) == (
            amount_fen,
            reason,
            requested_on,
        )

    def change_status(self, *, status: str, amount_fen: int, reason: str) -> None:
        if self.status in TERMINAL:
            raise RuleViolation(f"request is already {self.status}", "assistance.already_decided")
        self._status_changed(status=status, amount_fen=amount_fen, reason=reason)

    @event("StatusChanged")
    def _status_changed(self, *, status: str, amount_fen: int, reason: str) -> None:
        self.status, self.amount_fen = status, amount_fen


def request_id_for(host_place: str, member_record_id: str, idempotency_key: str) -> UUID:
    return uuid5(
        NAMESPACE_URL, f"liangdi:assistance:{host_place}:{member_record_id}:{idempotency_key}"
    )
