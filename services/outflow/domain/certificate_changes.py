"""The activity certificate (流动党员活动证) after its issue: validity, reissue, cancellation.

A certificate is valid for a number of months from its issue (a setting of the county). A lost
or damaged one is reissued: its number becomes void and the county's register gives the next
number, without gaps; a cancelled one (注销) leaves the member with no valid number. The host
hears of both, so nobody reports there with a void number (docs/practices.md, "The activity
certificate").
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from eventsourcing.domain import event

from services.outflow.domain.base import MemberBase
from services.outflow.domain.errors import RuleViolation, WrongState, not_in_future
from services.outflow.domain.status import AWAY

REISSUE_REASONS = ("lost", "damaged", "expired")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(issued_on: date, months: int) -> date:
    # Valid through the day before the same date `months` later.
    return date.fromordinal(add_months(issued_on, months).toordinal() - 1)


class CertificateChanges(MemberBase):
    # Class defaults: records from before reissues load as well (issued on departure).
    reissued: tuple[str, date] | None = None  # the number reissued last, and when
    void_certificates: tuple[dict[str, Any], ...] = ()

    def certificate_since(self) -> date | None:
        """When the current certificate was issued: its reissue, else the departure (a later
        departure gives a new number, so a reissue counts only while its number is current)."""
        if self.reissued and self.reissued[0] == getattr(self, "certificate_no", None):
            return self.reissued[1]
        return getattr(self, "departed_on", None)

    def _check_certificate(self, act: str, on: date, today: date) -> None:
        if self.status not in AWAY or not getattr(self, "certificate_no", None):
            raise WrongState(
                f"member is {self.status} without a current activity certificate; nothing to {act}",
                "certificate.none",
            )
        not_in_future(on, today, "certificate.future_date", f"the {act}")
        since = self.certificate_since()
        if since and on < since:
            raise RuleViolation(
                f"the {act} ({on}) is before the certificate's issue ({since})",
                "certificate.before_issue",
            )

    def reissue_certificate(
        self,
        *,
        new_no: str,
        reason: str,
        on: date,
        today: date,
        validity_months: int,
        recorded_by: str,
    ) -> None:
        if reason not in REISSUE_REASONS:
            raise RuleViolation(
                f"a certificate is reissued when {', '.join(REISSUE_REASONS)}", "certificate.reason"
            )
        self._check_certificate("reissue", on, today)
        self._certificate_reissued(
            host_place=self.host_place,
            void_no=self.certificate_no,
            certificate_no=new_no,
            reason=reason,
            reissued_on=on,
            valid_until=valid_until(on, validity_months),
            recorded_by=recorded_by,
        )

    @event("CertificateReissued")
    def _certificate_reissued(
        self,
        *,
        host_place: str | None,
        void_no: str,
        certificate_no: str,
        reason: str,
        reissued_on: date,
        valid_until: date,
        recorded_by: str,
    ) -> None:
        self.void_certificates = (
            *self.void_certificates,
            {"number": void_no, "reason": reason, "on": reissued_on.isoformat()},
        )
        self.certificate_no, self.reissued = certificate_no, (certificate_no, reissued_on)

    def cancel_certificate(self, *, reason: str, on: date, today: date, recorded_by: str) -> None:
        self._check_certificate("cancellation", on, today)
        self._certificate_cancelled(
            host_place=self.host_place,
            certificate_no=self.certificate_no,
            reason=reason,
            cancelled_on=on,
            recorded_by=recorded_by,
        )

    @event("CertificateCancelled")
    def _certificate_cancelled(
        self,
        *,
        host_place: str | None,
        certificate_no: str,
        reason: str,
        cancelled_on: date,
        recorded_by: str,
    ) -> None:
        self.void_certificates = (
            *self.void_certificates,
            {"number": certificate_no, "reason": reason, "on": cancelled_on.isoformat()},
        )
        self.certificate_no = None
