"""Quarterly verification (每季度查档案、查地址、查联系方式) of every departed member."""

from __future__ import annotations

from datetime import date, timedelta

from eventsourcing.domain import event

from services.outflow.domain.base import MemberBase
from services.outflow.domain.calendar import quarter_of
from services.outflow.domain.errors import RuleViolation, not_in_future
from services.outflow.domain.status import AWAY


class QuarterlyVerification(MemberBase):
    def record_verification(
        self,
        *,
        checked_on: date,
        file_ok: bool,
        address_ok: bool,
        contact_ok: bool,
        note: str,
        recorded_by: str,
        today: date,
    ) -> None:
        self._ensure(AWAY, "record a verification")
        not_in_future(checked_on, today, "verification.future_date", "check date")
        if self.departed_on and checked_on < self.departed_on:
            raise RuleViolation("check before the departure", "verification.before_departure")
        self._verified(
            quarter=quarter_of(checked_on),
            checked_on=checked_on,
            file_ok=file_ok,
            address_ok=address_ok,
            contact_ok=contact_ok,
            note=note,
            recorded_by=recorded_by,
        )
        if contact_ok:
            self._restore_if_lost(checked_on, recorded_by, "contact restored by verification")

    @event("Verified")
    def _verified(
        self,
        *,
        quarter: str,
        checked_on: date,
        file_ok: bool,
        address_ok: bool,
        contact_ok: bool,
        note: str,
        recorded_by: str,
    ) -> None:
        if self.last_verified_on is None or checked_on > self.last_verified_on:
            self.last_verified_on = checked_on
        if contact_ok:
            self._touch(checked_on, "verification")

    def next_check_due(self, interval_days: int) -> date | None:
        """Each quarter a check is due: the interval after the last check, else the departure."""
        if self.status not in AWAY:
            return None
        base = self.last_verified_on or self.departed_on
        return base + timedelta(days=interval_days) if base else None
