"""A member as the host district holds them: expected, reported, hosted, left or received."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation, WrongState


class HostStatus(StrEnum):
    EXPECTED = "expected"
    REPORTED = "reported"
    LEFT = "left"
    RECEIVED = "received"  # membership transferred in: the host now owns the record


def hosted_member_id(host_place: str, origin_member_id: str) -> UUID:
    """The host's record of one origin member; the same departure never creates two."""
    return uuid5(NAMESPACE_URL, f"liangdi:hosted:{host_place}:{origin_member_id}")


class HostedMember(Aggregate):
    @staticmethod
    def create_id(host_place: str, origin_member_id: str, **_: object) -> UUID:
        return hosted_member_id(host_place, origin_member_id)

    @event("ArrivalExpected")
    def __init__(
        self,
        *,
        host_place: str,
        origin_member_id: str,
        origin_place: str,
        name: str,
        resident_id: str,
        sex: str,
        phone: str,
        employer: str,
        host_address: str,
        departed_on: date,
        certificate_no: str,
    ) -> None:
        self.host_place, self.origin_member_id, self.origin_place = (
            host_place,
            origin_member_id,
            origin_place,
        )
        self.name, self.resident_id, self.sex, self.phone = name, resident_id, sex, phone
        self.employer, self.host_address = employer, host_address
        self.departed_on, self.certificate_no = departed_on, certificate_no
        self.status = HostStatus.EXPECTED
        self.reported_on: date | None = None

    def report(
        self, *, certificate_no: str, reported_on: date, today: date, recorded_by: str
    ) -> None:
        if self.status != HostStatus.EXPECTED:
            raise WrongState(f"member is {self.status}; only an expected member reports")
        if certificate_no != self.certificate_no:
            raise RuleViolation(
                "certificate number does not match the one the origin issued",
                "reporting.certificate_mismatch",
            )
        if reported_on > today:
            raise RuleViolation("reporting date is in the future", "reporting.future_date")
        if reported_on < self.departed_on:
            raise RuleViolation("reporting before departure", "reporting.before_departure")
        self._reported(reported_on=reported_on, recorded_by=recorded_by)

    @event("Reported")
    def _reported(self, *, reported_on: date, recorded_by: str) -> None:
        self.status = HostStatus.REPORTED
        self.reported_on = reported_on
