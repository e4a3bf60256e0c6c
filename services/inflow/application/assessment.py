"""The host's annual evaluation (双向互评) and hardship assistance requests (困难救助)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.inflow.application.base import InflowBase
from services.inflow.domain.assistance import AssistanceRequest, request_id_for
from services.inflow.domain.errors import IdempotencyKeyReused, RuleViolation, WrongState
from services.inflow.domain.evaluation import HostEvaluation, evaluation_id
from services.inflow.domain.member import HostedMember, HostStatus
from shared.validation.bounds import china_today


class AssessmentCommands(InflowBase):
    def _origin_known(self, member: HostedMember, act: str) -> str:
        if not member.confirmed or not member.origin_member_id:
            raise WrongState(
                f"the origin has not yet confirmed this member; {act} waits for it",
                "member.unconfirmed",
            )
        return member.origin_member_id

    def evaluation_for(self, member: HostedMember, year: int) -> HostEvaluation:
        """The member's evaluation for `year`, opened when first needed (by either side)."""
        try:
            return self.repository.get(evaluation_id(member.id, year))
        except AggregateNotFoundError:
            return HostEvaluation(
                member_record_id=member.id,
                year=year,
                host_place=self.place,
                origin_place=member.origin_place,
                origin_member_id=member.origin_member_id or "",
            )

    def evaluate_member(
        self,
        member_id: UUID,
        *,
        year: int,
        grade: str,
        comments: str,
        attendance_count: int,
        attendance_by_kind: dict[str, int],
        evaluated_by: str,
        today: date | None = None,
    ) -> None:
        member = self.get_member(member_id)
        if year > (today or china_today()).year:
            raise RuleViolation(f"{year} has not begun", "evaluation.future_year")
        if not member.hosted_in(year):
            raise RuleViolation(
                f"the member was not hosted here in {year}", "evaluation.not_hosted_that_year"
            )
        if member.status == HostStatus.RECEIVED:
            raise WrongState(
                "membership was transferred in: the host's own assessment applies now",
                "evaluation.member_received",
            )
        self._origin_known(member, "an evaluation for the origin")
        evaluation = self.evaluation_for(member, year)
        evaluation.evaluate(
            grade=grade,
            comments=comments,
            attendance_count=attendance_count,
            attendance_by_kind=attendance_by_kind,
            evaluated_by=evaluated_by,
        )
        self.save(evaluation)

    def request_assistance(
        self,
        member_id: UUID,
        *,
        amount_fen: int,
        reason: str,
        requested_on: date,
        requested_by: str,
        today: date | None = None,
        idempotency_key: str = "",
    ) -> UUID:
        member = self.get_member(member_id)
        if idempotency_key:
            earlier = self._earlier_request(member_id, idempotency_key)
            if earlier is not None:
                if not earlier.same_request(
                    amount_fen=amount_fen, reason=reason, requested_on=requested_on
                ):
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {idempotency_key!r} was used for another request",
                        "idempotency.key_reused",
                    )
                return earlier.id
        if member.status != HostStatus.REPORTED:
            raise WrongState(
                f"member is {member.status}; the origin's fund helps members hosted here",
                "assistance.not_hosted",
            )
        origin_member_id = self._origin_known(member, "an assistance request")
        request = AssistanceRequest.raise_for(
            member_record_id=str(member.id),
            host_place=self.place,
            origin_place=member.origin_place,
            origin_member_id=origin_member_id,
            amount_fen=amount_fen,
            reason=reason,
            requested_on=requested_on,
            today=today or china_today(),
            requested_by=requested_by,
            idempotency_key=idempotency_key,
            ceiling=self.max_amount_fen,
        )
        try:
            self.save(request)
        except IntegrityError:  # the same key raced in: the first request is the request
            return self.request_assistance(
                member_id,
                amount_fen=amount_fen,
                reason=reason,
                requested_on=requested_on,
                requested_by=requested_by,
                today=today,
                idempotency_key=idempotency_key,
            )
        return request.id

    def _earlier_request(self, member_id: UUID, key: str) -> AssistanceRequest | None:
        try:
            found = self.repository.get(request_id_for(self.place, str(member_id), key))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, AssistanceRequest) else None
