"""The mobile member (流动党员) as the origin county keeps them: its information base entry."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import RuleViolation, WrongState


class MemberStatus(StrEnum):
    AT_HOME = "at_home"
    DEPARTED = "departed"
    RETURNED = "returned"
    LOST = "lost"
    SUSPENDED = "suspended"
    REMOVED = "removed"
    TRANSFERRED = "transferred"


def member_id_for(origin_place: str, resident_id: str) -> UUID:
    """One record per person per county: registering the same ID number twice conflicts."""
    return uuid5(NAMESPACE_URL, f"liangdi:member:{origin_place}:{resident_id}")


class MobileMember(Aggregate):
    @staticmethod
    def create_id(origin_place: str, resident_id: str, **_: object) -> UUID:
        return member_id_for(origin_place, resident_id)

    @event("Registered")
    def __init__(
        self,
        *,
        origin_place: str,
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
        self.status = MemberStatus.AT_HOME
        self.host_place: str | None = None
        self.certificate_no: str | None = None
        self.departed_on: date | None = None
        self.expected_months = 0

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
        if self.status not in (MemberStatus.AT_HOME, MemberStatus.RETURNED):
            raise WrongState(f"member is {self.status}; only a member at home can depart")
        if departed_on > today:
            raise RuleViolation("departure date is in the future", "departure.future_date")
        if host_place == self.origin_place:
            raise RuleViolation("host place is the origin county itself", "departure.same_place")
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
        self.status = MemberStatus.DEPARTED
        self.host_place, self.certificate_no = host_place, certificate_no
        self.employer, self.host_address = employer, host_address
        self.departed_on, self.expected_months = departed_on, expected_months
        self.reported_on: date | None = None

    def should_transfer(self, mobile_after_months: int) -> bool:
        """应转尽转: settling 6+ months at a fairly fixed place means transfer, not a certificate."""
        return self.expected_months >= mobile_after_months

    @event("HostReportReceived")
    def record_host_report(self, *, host_place: str, reported_on: date) -> None:
        self.reported_on = reported_on
