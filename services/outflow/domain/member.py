"""The mobile member (流动党员) as the origin county keeps them: its information base entry.

One aggregate, one stream per member, written in parts to keep modules small: the information
base and host facts here; contact and lost contact, quarterly verification, and return and
transfer in their own modules. Every event carries ``recorded_by`` (who) and its timestamp
(when); events the host must hear about carry the host place they go to.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from services.outflow.domain.certificate_changes import CertificateChanges
from services.outflow.domain.errors import RuleViolation, WrongState, not_in_future
from services.outflow.domain.lost_contact import ContactAndLoss
from services.outflow.domain.moves import HostMoves
from services.outflow.domain.status import AWAY, MemberStatus
from services.outflow.domain.transfer import TransferOut
from services.outflow.domain.verification import QuarterlyVerification

__all__ = ["MemberStatus", "MobileMember", "member_id_for"]

#: Fields an operator may correct; employer and host address only while the member is away.
CORRECTABLE = (
    "name",
    "sex",
    "phone",
    "origin_branch",
    "household_address",
    "employer",
    "host_address",
)
WHILE_AWAY = ("employer", "host_address")


def member_id_for(origin_place: str, person_key: str) -> UUID:
    """One record per person per county: registering the same person twice conflicts.

    `person_key` is a keyed digest of the ID number (the application derives it), so the id
    does not reveal the ID number."""
    return uuid5(NAMESPACE_URL, f"liangdi:member:{origin_place}:{person_key}")


class MobileMember(
    ContactAndLoss, QuarterlyVerification, TransferOut, HostMoves, CertificateChanges
):
    @staticmethod
    def create_id(origin_place: str, person_key: str, **_: object) -> UUID:
        return member_id_for(origin_place, person_key)

    @event("Registered")
    def __init__(
        self,
        *,
        origin_place: str,
        person_key: str,
        name: str,
        resident_id: str,
        sex: str,
        phone: str,
        origin_branch: str,
        household_address: str,
        recorded_by: str,
    ) -> None:
        self.origin_place = origin_place
        self.name, self.resident_id, self.sex, self.phone = name, resident_id, sex, phone
        self.origin_branch, self.household_address = origin_branch, household_address
        self.status = MemberStatus.AT_HOME.value
        self.host_place: str | None = None
        self.certificate_no: str | None = None
        self.departed_on: date | None = None
        self.expected_months = 0
        self.employer, self.host_address = "", ""
        self.reported_on: date | None = None
        self.returned_on: date | None = None
        self.last_contact_on: date | None = None
        self.last_participation_on: date | None = None
        self.last_verified_on: date | None = None
        self.lost_reason: str | None = None
        self.lost_on: date | None = None
        self.suspended_on: date | None = None
        self.host_branch: str | None = None
        self.reporting_overdue_since: date | None = None
        self.left_host_on: date | None = None
        self.letters: list[dict[str, Any]] = []

    # --- information base ----------------------------------------------------------------

    def correct_details(self, *, changes: dict[str, str], recorded_by: str) -> dict[str, str]:
        """Corrects details; only real changes are recorded. Returns what changed."""
        self._ensure_open()
        unknown = set(changes) - set(CORRECTABLE)
        if unknown:
            raise RuleViolation(f"cannot correct {sorted(unknown)}", "details.not_correctable")
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            raise RuleViolation("nothing differs from the record", "details.no_change")
        if set(changed) & set(WHILE_AWAY) and self.status not in AWAY:
            raise WrongState(
                "employer and host address belong to a departure; the member is not away",
                "details.not_away",
            )
        self._corrected(changes=changed, host_place=self.host_place, recorded_by=recorded_by)
        return changed

    @event("DetailsCorrected")
    def _corrected(
        self, *, changes: dict[str, str], host_place: str | None, recorded_by: str
    ) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    # --- departure with activity certificate (流动党员活动证) ------------------------------

    def depart(
        self,
        *,
        host_place: str,
        employer: str,
        host_address: str,
        reason: str,
        expected_months: int,
        departed_on: date,
        certificate_no: str,
        today: date,
        recorded_by: str,
    ) -> None:
        self._ensure([MemberStatus.AT_HOME, MemberStatus.RETURNED], "record a departure")
        not_in_future(departed_on, today, "departure.future_date", "departure date")
        self._not_before_birth(departed_on, "departure.before_birth", "departure date")
        if host_place == self.origin_place:
            raise RuleViolation("host place is the origin county itself", "departure.same_place")
        if self.returned_on and departed_on < self.returned_on:
            raise RuleViolation("departure before the last return", "departure.before_return")
        self._departed(
            host_place=host_place,
            employer=employer,
            host_address=host_address,
            reason=reason,
            expected_months=expected_months,
            departed_on=departed_on,
            certificate_no=certificate_no,
            recorded_by=recorded_by,
        )

    @event("Departed")
    def _departed(
        self,
        *,
        host_place: str,
        employer: str,
        host_address: str,
        reason: str,
        expected_months: int,
        departed_on: date,
        certificate_no: str,
        recorded_by: str,
    ) -> None:
        self.status = MemberStatus.DEPARTED.value
        self.host_place, self.certificate_no = host_place, certificate_no
        self.employer, self.host_address = employer, host_address
        self.departed_on, self.expected_months = departed_on, expected_months
        self.reported_on = None
        self.host_branch, self.reporting_overdue_since, self.left_host_on = None, None, None
        self._touch(departed_on, "report")

    def should_transfer(self, mobile_after_months: int) -> bool:
        """应转尽转: settling 6+ months at a fairly fixed place means transfer, not certificate."""
        return self.expected_months >= mobile_after_months

    # --- facts reported by the host ------------------------------------------------------

    def ensure_hosted_by(self, place: str) -> None:
        if self.host_place != place or self.status not in AWAY:
            raise WrongState(
                f"member is {self.status} and hosted by {self.host_place}, not {place}",
                "member.not_hosted_there",
            )

    @event("HostReportReceived")
    def record_host_report(
        self, *, host_place: str, reported_on: date, certificate_no: str = ""
    ) -> None:
        """The member reported (报到) to the host: contact."""
        self.reported_on = reported_on
        self.reporting_overdue_since = None
        self._touch(reported_on, "report")

    @event("ReportingOverdueNoted")
    def record_reporting_overdue(self, *, host_place: str, due_on: date) -> None:
        self.reporting_overdue_since = due_on

    @event("HostBranchAssigned")
    def record_branch_assigned(self, *, host_place: str, branch_id: str, branch_name: str) -> None:
        # Removed from a branch or the branch dissolved: the member is in none (not in "").
        self.host_branch = branch_name or None

    @event("HostLeft")
    def record_left_host(
        self, *, host_place: str, left_on: date, reason: str, destination: str
    ) -> None:
        """The host says the member left; the origin then records a return or a new place."""
        self.left_host_on = left_on
