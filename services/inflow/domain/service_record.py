"""A member's yearly public commitment (党员承诺 / 亮牌) and their hours in host service teams.

Members at the host commit each year in public to what they will do, and serve in the host's
volunteer teams and "三送一扶" visits (送政策、送温暖、送服务, 扶助困难群众). The host records
both; the origin county weighs them as evidence in the year's assessment (民主评议), beside the
grades (docs/practices.md, "Commitments and service").
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation, WrongState


class ServiceKind(StrEnum):
    VOLUNTEER_TEAM = "volunteer_team"  # 志愿服务队
    THREE_SENDS_ONE_HELP = "three_sends_one_help"  # 三送一扶 visits
    OTHER = "other"


MAX_HOURS_A_DAY = 24


def service_record_id(member_record_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:service-record:{member_record_id}")


class ServiceRecord(Aggregate):
    """One per member at the host. It names the member's origin so its facts can reach it."""

    @staticmethod
    def create_id(member_record_id: str, **_: object) -> UUID:
        return service_record_id(UUID(member_record_id))

    @event("Opened")
    def __init__(
        self, *, member_record_id: str, origin_member_id: str, origin_place: str, host_place: str
    ) -> None:
        self.member_record_id, self.origin_member_id = member_record_id, origin_member_id
        self.origin_place, self.host_place = origin_place, host_place
        self.commitments: dict[str, dict[str, Any]] = {}  # year → commitment
        self.entries: list[dict[str, Any]] = []

    def commit(
        self, *, year: int, text: str, made_on: date, today: date, recorded_by: str, to_origin: bool
    ) -> None:
        """`to_origin`: whether the member's origin county hears of it (it keeps the membership)."""
        if made_on > today:
            raise RuleViolation("the commitment date is in the future", "commitment.future_date")
        if made_on.year not in (year - 1, year):
            raise RuleViolation(
                f"a commitment for {year} is made in {year - 1} or {year}, not {made_on.year}",
                "commitment.wrong_year",
            )
        if str(year) in self.commitments:
            raise WrongState(
                f"the member's commitment for {year} was made on "
                f"{self.commitments[str(year)]['made_on']}",
                "commitment.already_made",
            )
        self._committed(
            year=year, text=text, made_on=made_on, recorded_by=recorded_by, to_origin=to_origin
        )

    @event("CommitmentMade")
    def _committed(
        self, *, year: int, text: str, made_on: date, recorded_by: str, to_origin: bool
    ) -> None:
        self.commitments[str(year)] = {"year": year, "text": text, "made_on": made_on.isoformat()}

    def serve(
        self,
        *,
        entry_id: str,
        team: str,
        kind: str,
        served_on: date,
        hours: float,
        reported_on: date | None,
        today: date,
        recorded_by: str,
        to_origin: bool,
    ) -> None:
        if not 0 < hours <= MAX_HOURS_A_DAY:
            raise RuleViolation(
                f"{hours} hours in a day: between 0 and {MAX_HOURS_A_DAY}", "service.hours"
            )
        if served_on > today:
            raise RuleViolation("the service date is in the future", "service.future_date")
        if reported_on is None or served_on < reported_on:
            raise RuleViolation(
                f"service on {served_on} is before the member reported here "
                f"({reported_on or 'not yet'})",
                "service.before_arrival",
            )
        self._served(
            entry_id=entry_id,
            team=team,
            kind=ServiceKind(kind).value,
            served_on=served_on,
            hours=hours,
            recorded_by=recorded_by,
            to_origin=to_origin,
        )

    @event("ServiceRecorded")
    def _served(
        self,
        *,
        entry_id: str,
        team: str,
        kind: str,
        served_on: date,
        hours: float,
        recorded_by: str,
        to_origin: bool,
    ) -> None:
        self.entries.append(
            {
                "entry_id": entry_id,
                "team": team,
                "kind": kind,
                "served_on": served_on.isoformat(),
                "hours": hours,
            }
        )

    def year_summary(self, year: int) -> dict[str, Any]:
        entries = [e for e in self.entries if e["served_on"].startswith(str(year))]
        return {
            "year": year,
            "commitment": self.commitments.get(str(year)),
            "service_hours": sum(e["hours"] for e in entries),
            "service": entries,
        }
