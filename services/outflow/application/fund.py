"""Commands on the hardship assistance fund, each applied at most once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from services.outflow.application.assessments import AssessmentCommands
from services.outflow.application.core import NotFoundError
from services.outflow.domain.calendar import add_working_days
from services.outflow.domain.eligibility import check_eligible
from services.outflow.domain.errors import DomainError, IdempotencyKeyReused, RuleViolation
from services.outflow.domain.fund import AssistanceFund, fund_id_for
from services.outflow.domain.idempotency import IdempotencyRecord, idempotency_id_for
from services.outflow.domain.member import MobileMember
from services.outflow.domain.payouts import PayoutApplication, application_id_for
from shared.validation import ValidationFailed
from shared.validation.bounds import check_amount_ceiling


@dataclass(frozen=True)
class IdempotentRequest:
    key: str
    fingerprint: str  # method, path and body: a key reused for another request is refused


FundRecord = AssistanceFund | PayoutApplication


@dataclass(frozen=True)
class Outcome:
    """What a fund write produced: the record it changed, as it was just after the write, and
    whether this is a retry answered from the idempotency record rather than applied again."""

    result: FundRecord
    replayed: bool


# A write decides from fresh state and names what to save and which saved record is its result.
Action = Callable[[], tuple[list[Any], FundRecord]]


class FundCommands(AssessmentCommands):
    def _idempotent(self, request: IdempotentRequest, action: Action) -> Outcome:
        record_id = idempotency_id_for(self.place, request.key)

        def attempt() -> Outcome:
            record = self._find(record_id)
            if record is not None:
                if record.fingerprint != request.fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used for a different request"
                    )
                result = self.repository.get(record.result_id, version=record.result_version)
                return Outcome(result, replayed=True)
            aggregates, result = action()
            record = IdempotencyRecord(
                place=self.place,
                key=request.key,
                fingerprint=request.fingerprint,
                result_id=result.id,
                result_version=result.version,
            )
            # The effect and its result in one transaction: applied once, or not at all.
            self.save(*aggregates, record)
            return Outcome(result, replayed=False)

        return self._retrying(attempt)

    def fund(self) -> AssistanceFund:
        found = self._find(fund_id_for(self.place))
        return found if found is not None else AssistanceFund(self.place)

    def payout_application(self, application_id: UUID) -> PayoutApplication:
        found = self._find(application_id)
        if not isinstance(found, PayoutApplication):
            raise NotFoundError("assistance.not_found", f"no application {application_id}")
        return found

    def _check_eligible(self, member: MobileMember, as_of: date) -> None:
        years = range(as_of.year - self.rules.ineligible_grade_years, as_of.year + 1)
        check_eligible(
            as_of=as_of,
            final_grades=self.final_grades(member.id, years),
            last_participation_on=member.last_participation_on,
            participation_baseline=member.departed_on or member.created_on.date(),
            grade_years=self.rules.ineligible_grade_years,
            inactive_days=self.rules.ineligible_after_inactive_days,
        )

    def contribute(
        self,
        request: IdempotentRequest,
        *,
        amount_fen: int,
        contributor: str,
        received_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> Outcome:
        def action() -> tuple[list[Any], FundRecord]:
            fund = self.fund()
            if received_on > self._today(today):
                raise RuleViolation("receipt date is in the future", "fund.future_date")
            fund.contribute(
                amount_fen=amount_fen,
                contributor=contributor,
                received_on=received_on,
                recorded_by=recorded_by,
                ceiling=self.rules.max_amount_fen,
            )
            return [fund], fund

        return self._idempotent(request, action)

    def submit_application(
        self,
        request: IdempotentRequest,
        *,
        member_id: UUID,
        amount_fen: int,
        reason: str,
        requested_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> Outcome:
        def action() -> tuple[list[Any], FundRecord]:
            member = self.get_member(member_id)
            member._ensure_open()
            if requested_on > self._today(today):
                raise RuleViolation("request date is in the future", "assistance.future_date")
            check_amount_ceiling(amount_fen, self.rules.max_amount_fen)
            self._check_eligible(member, requested_on)
            application = PayoutApplication(
                county=self.place,
                source="origin",
                reference=request.key,
                member_id=member.id,
                host_place=member.host_place,
                amount_fen=amount_fen,
                reason=reason,
                requested_on=requested_on,
                recorded_by=recorded_by,
            )
            return [application], application

        return self._idempotent(request, action)

    def _step(
        self,
        request: IdempotentRequest,
        application_id: UUID,
        step: Callable[[PayoutApplication, AssistanceFund], None],
    ) -> Outcome:
        def action() -> tuple[list[Any], FundRecord]:
            application = self.payout_application(application_id)
            fund = self.fund()
            step(application, fund)
            return [application, fund], application

        return self._idempotent(request, action)

    def start_review(
        self, request: IdempotentRequest, application_id: UUID, *, recorded_by: str
    ) -> Outcome:
        return self._step(
            request, application_id, lambda a, _: a.start_review(recorded_by=recorded_by)
        )

    def approve(
        self,
        request: IdempotentRequest,
        application_id: UUID,
        *,
        approved_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> Outcome:
        def step(application: PayoutApplication, fund: AssistanceFund) -> None:
            self._check_eligible(self.get_member(application.member_id), approved_on)
            application.approve(
                approved_on=approved_on, today=self._today(today), recorded_by=recorded_by
            )
            # Reserve now: the fund can never promise more than it holds.
            fund.reserve(
                application_id=application.id,
                amount_fen=application.amount_fen,
                recorded_by=recorded_by,
            )

        return self._step(request, application_id, step)

    def publish_notice(
        self,
        request: IdempotentRequest,
        application_id: UUID,
        *,
        notice_from: date,
        recorded_by: str,
    ) -> Outcome:
        until = add_working_days(notice_from, self.rules.public_notice_working_days)
        return self._step(
            request,
            application_id,
            lambda a, _: a.publish_notice(
                notice_from=notice_from, notice_until=until, recorded_by=recorded_by
            ),
        )

    def disburse(
        self,
        request: IdempotentRequest,
        application_id: UUID,
        *,
        paid_on: date,
        recorded_by: str,
        today: date | None = None,
    ) -> Outcome:
        def step(application: PayoutApplication, fund: AssistanceFund) -> None:
            application.pay(paid_on=paid_on, today=self._today(today), recorded_by=recorded_by)
            fund.disburse(application_id=application.id, paid_on=paid_on, recorded_by=recorded_by)

        return self._step(request, application_id, step)

    def reject(
        self, request: IdempotentRequest, application_id: UUID, *, reason: str, recorded_by: str
    ) -> Outcome:
        def step(application: PayoutApplication, fund: AssistanceFund) -> None:
            held = application.holds_reservation
            application.reject(reason=reason, recorded_by=recorded_by)
            if held:
                fund.release(application_id=application.id, recorded_by=recorded_by)

        return self._step(request, application_id, step)

    def assistance_requested_by_host(
        self,
        member: MobileMember,
        *,
        host_place: str,
        request_id: str,
        amount_fen: int,
        reason: str,
        requested_on: date,
    ) -> list[Any]:
        """A host's application (often the host sees the hardship): recorded, and rejected
        at once with the rule when the member is not eligible, so the host hears why."""
        application_id = application_id_for(self.place, f"host:{host_place}", request_id)
        if self._find(application_id) is not None:
            return []
        application = PayoutApplication(
            county=self.place,
            source=f"host:{host_place}",
            reference=request_id,
            member_id=member.id,
            host_place=host_place,
            amount_fen=amount_fen,
            reason=reason,
            requested_on=requested_on,
            recorded_by=f"host:{host_place}",
        )
        try:
            member._ensure_open()  # transferred or removed meanwhile: no longer this fund's
            check_amount_ceiling(amount_fen, self.rules.max_amount_fen)
            self._check_eligible(member, requested_on)
        except (DomainError, ValidationFailed) as exc:
            application.reject(reason=f"{exc.code}: {exc.message}", recorded_by="rule")
        return [application]
