"""Recording a member's yearly commitment (党员承诺 / 亮牌) and their service hours at the host
(docs/practices.md, "Commitments and service")."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from services.inflow.application.base import InflowBase
from services.inflow.domain.errors import WrongState
from services.inflow.domain.member import PRESENT, HostedMember, HostStatus
from services.inflow.domain.service_record import ServiceRecord, service_record_id
from shared.validation.bounds import china_today


class ServiceCommands(InflowBase):
    def service_record(self, member_id: UUID) -> ServiceRecord | None:
        try:
            found = self.repository.get(service_record_id(member_id))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, ServiceRecord) else None

    def _service_record_of(self, member: HostedMember) -> ServiceRecord:
        if member.status not in PRESENT:
            raise WrongState(
                f"member is {member.status}; commitments and service are recorded for members "
                "who reported here",
                "service.member_not_present",
            )
        return self.service_record(member.id) or ServiceRecord(
            member_record_id=str(member.id),
            origin_member_id=member.origin_member_id or "",
            origin_place=member.origin_place,
            host_place=self.place,
        )

    @staticmethod
    def _to_origin(member: HostedMember) -> bool:
        # The origin weighs it only while it keeps the membership, and only for a member it knows.
        return member.status == HostStatus.REPORTED and bool(member.origin_member_id)

    def record_commitment(
        self,
        member_id: UUID,
        *,
        year: int,
        text: str,
        made_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        record = self._service_record_of(member)
        record.commit(
            year=year,
            text=text,
            made_on=made_on,
            today=today or china_today(),
            recorded_by=recorded_by,
            to_origin=self._to_origin(member),
        )
        self.save(record)

    def record_service(
        self,
        member_id: UUID,
        *,
        team: str,
        kind: str,
        served_on: date,
        hours: float,
        recorded_by: str,
        today: date | None = None,
    ) -> str:
        member = self.get_member(member_id)
        record = self._service_record_of(member)
        entry_id = str(uuid4())
        record.serve(
            entry_id=entry_id,
            team=team,
            kind=kind,
            served_on=served_on,
            hours=hours,
            reported_on=member.reported_on,
            today=today or china_today(),
            recorded_by=recorded_by,
            to_origin=self._to_origin(member),
        )
        self.save(record)
        return entry_id
