"""A hardship assistance application: submitted (by the origin or a host) → under review →
approved (money reserved) → in public notice → paid; or rejected at any step before payment.
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import RuleViolation, WrongState, not_in_future
from shared.validation import validate_amount_fen

SUBMITTED, UNDER_REVIEW, APPROVED = "submitted", "under_review", "approved"
IN_NOTICE, PAID, REJECTED = "in_public_notice", "paid", "rejected"


def application_id_for(county: str, source: str, reference: str) -> UUID:
    """Deterministic: the same host request (or origin idempotency key) is one application."""
    return uuid5(NAMESPACE_URL, f"liangdi:assistance:{county}:{source}:{reference}")


class PayoutApplication(Aggregate):
    @staticmethod
    def create_id(county: str, source: str, reference: str, **_: object) -> UUID:
        return application_id_for(county, source, reference)

    @event("Submitted")
    def __init__(
        self,
        *,
        county: str,
        source: str,
        reference: str,
        member_id: UUID,
        host_place: str | None,
        amount_fen: int,
        reason: str,
        requested_on: date,
        recorded_by: str,
    ) -> None:
        self.county, self.source, self.reference = county, source, reference
        self.member_id, self.host_place = member_id, host_place
        self.amount_fen = validate_amount_fen(amount_fen)
        self.reason, self.requested_on = reason, requested_on
        self.status = SUBMITTED
        self.approved_on: date | None = None
        self.notice_from: date | None = None
        self.notice_until: date | None = None
        self.paid_on: date | None = None
        self.rejection_reason = ""

    def _ensure(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise WrongState(
                f"cannot {action}: application is {self.status}", "assistance.wrong_state"
            )

    def start_review(self, *, recorded_by: str) -> None:
        self._ensure((SUBMITTED,), "start the review")
        self._under_review(host_place=self.host_place, recorded_by=recorded_by)

    @event("ReviewStarted")
    def _under_review(self, *, host_place: str | None, recorded_by: str) -> None:
        self.status = UNDER_REVIEW

    def approve(self, *, approved_on: date, today: date, recorded_by: str) -> None:
        self._ensure((UNDER_REVIEW,), "approve")
        not_in_future(approved_on, today, "assistance.future_date", "approval date")
        if approved_on < self.requested_on:
            raise RuleViolation(
                f"approval ({approved_on}) before the request ({self.requested_on})",
                "assistance.date_order",
            )
        self._approved(approved_on=approved_on, host_place=self.host_place, recorded_by=recorded_by)

    @event("Approved")
    def _approved(self, *, approved_on: date, host_place: str | None, recorded_by: str) -> None:
        self.status, self.approved_on = APPROVED, approved_on

    def publish_notice(self, *, notice_from: date, notice_until: date, recorded_by: str) -> None:
        """Public notice (公示) for the configured number of working days."""
        self._ensure((APPROVED,), "publish the notice")
        # A notice back-dated before the approval would end before it began and let the money
        # be paid at once: the public notice starts on or after the approval.
        earliest = max(d for d in (self.requested_on, self.approved_on) if d is not None)
        if notice_from < earliest:
            raise RuleViolation(
                f"the public notice cannot start ({notice_from}) before the application was "
                f"approved ({earliest})",
                "assistance.date_order",
            )
        self._notice(
            notice_from=notice_from,
            notice_until=notice_until,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    @event("NoticePublished")
    def _notice(
        self, *, notice_from: date, notice_until: date, host_place: str | None, recorded_by: str
    ) -> None:
        self.status = IN_NOTICE
        self.notice_from, self.notice_until = notice_from, notice_until

    def pay(self, *, paid_on: date, today: date, recorded_by: str) -> None:
        self._ensure((IN_NOTICE,), "disburse")
        not_in_future(paid_on, today, "assistance.future_date", "payment date")
        assert self.notice_until is not None
        if paid_on <= self.notice_until:
            raise RuleViolation(
                f"the public notice runs until {self.notice_until}; pay after it",
                "assistance.notice_running",
            )
        self._paid(paid_on=paid_on, host_place=self.host_place, recorded_by=recorded_by)

    @event("Paid")
    def _paid(self, *, paid_on: date, host_place: str | None, recorded_by: str) -> None:
        self.status, self.paid_on = PAID, paid_on

    @property
    def holds_reservation(self) -> bool:
        return self.status in (APPROVED, IN_NOTICE)

    def reject(self, *, reason: str, recorded_by: str) -> None:
        self._ensure((SUBMITTED, UNDER_REVIEW, APPROVED, IN_NOTICE), "reject")
        self._rejected(reason=reason, host_place=self.host_place, recorded_by=recorded_by)

    @event("Rejected")
    def _rejected(self, *, reason: str, host_place: str | None, recorded_by: str) -> None:
        self.status, self.rejection_reason = REJECTED, reason
