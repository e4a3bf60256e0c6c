"""Contact and lost contact (失联): the clock, flagging, suspension, restoration, removal."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import event

from services.outflow.domain.base import MemberBase
from services.outflow.domain.errors import RuleViolation, not_in_future
from services.outflow.domain.status import ContactKind, LostReason, MemberStatus


class ContactAndLoss(MemberBase):
    def record_contact(
        self, *, kind: str, on: date, source: str, note: str, recorded_by: str, today: date
    ) -> None:
        """Contact from either side (activity, report, verification, dues) resets the clock."""
        self._ensure_open()
        if kind not in set(ContactKind):
            raise RuleViolation(f"unknown kind of contact {kind!r}", "contact.kind_unknown")
        not_in_future(on, today, "contact.future_date", "contact date")
        self._not_before_birth(on, "contact.before_birth", "contact date")
        self._contact(kind=kind, on=on, source=source, note=note, recorded_by=recorded_by)
        self._restore_if_lost(on, recorded_by, f"contact restored ({kind} via {source})")

    @event("ContactRecorded")
    def _contact(self, *, kind: str, on: date, source: str, note: str, recorded_by: str) -> None:
        self._touch(on, kind)

    def is_lost_contact_candidate(self, as_of: date, after_days: int) -> bool:
        since = self.contact_clock_since()
        return (
            self.status == MemberStatus.DEPARTED
            and since is not None
            and (as_of - since).days >= after_days
        )

    def mark_lost(
        self,
        *,
        reason_code: str,
        on: date,
        note: str,
        recorded_by: str,
        today: date,
        after_days: int,
    ) -> None:
        self._ensure([MemberStatus.DEPARTED], "mark as lost contact")
        if reason_code not in set(LostReason):
            raise RuleViolation(
                f"unknown lost-contact reason {reason_code!r}; one of " + ", ".join(LostReason),
                "lost_contact.reason_unknown",
            )
        not_in_future(on, today, "lost_contact.future_date", "date marked lost")
        if not self.is_lost_contact_candidate(on, after_days):
            raise RuleViolation(
                f"last contact was {self.contact_clock_since()}; a member is flagged lost only "
                f"after {after_days} days without contact",
                "lost_contact.not_due",
            )
        self._lost(
            reason_code=reason_code,
            on=on,
            note=note,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    @event("MarkedLost")
    def _lost(
        self, *, reason_code: str, on: date, note: str, host_place: str | None, recorded_by: str
    ) -> None:
        self.status = MemberStatus.LOST.value
        self.lost_reason, self.lost_on = reason_code, on

    def suspend(self, *, on: date, decision: str, recorded_by: str, today: date) -> None:
        """Membership suspended by decision (停止党籍) after losing contact."""
        self._ensure([MemberStatus.LOST], "suspend")
        not_in_future(on, today, "lost_contact.future_date", "suspension date")
        if self.lost_on and on < self.lost_on:
            raise RuleViolation(
                "suspension before the member was flagged lost", "lost_contact.order"
            )
        self._suspended(
            on=on, decision=decision, host_place=self.host_place, recorded_by=recorded_by
        )

    @event("Suspended")
    def _suspended(
        self, *, on: date, decision: str, host_place: str | None, recorded_by: str
    ) -> None:
        self.status = MemberStatus.SUSPENDED.value
        self.suspended_on = on

    def restore(self, *, on: date, note: str, recorded_by: str, today: date) -> None:
        self._ensure([MemberStatus.LOST, MemberStatus.SUSPENDED], "restore")
        not_in_future(on, today, "lost_contact.future_date", "restoration date")
        self._restored(on=on, note=note, host_place=self.host_place, recorded_by=recorded_by)

    def remove(
        self, *, on: date, decision: str, recorded_by: str, today: date, after_days: int
    ) -> None:
        """Still unreachable ``after_days`` after suspension: removed (除名)."""
        self._ensure([MemberStatus.SUSPENDED], "remove")
        not_in_future(on, today, "lost_contact.future_date", "removal date")
        assert self.suspended_on is not None
        if self.last_contact_on is not None and self.last_contact_on > self.suspended_on:
            raise RuleViolation(
                f"contact was restored on {self.last_contact_on}, after the suspension: the member "
                "is not unreachable; the origin decides on restoring the membership (恢复党籍)",
                "lost_contact.contact_restored",
            )
        if (on - self.suspended_on).days < after_days:
            raise RuleViolation(
                f"suspended on {self.suspended_on}; removal only {after_days} days after it",
                "lost_contact.removal_too_early",
            )
        self._removed(on=on, decision=decision, host_place=self.host_place, recorded_by=recorded_by)

    @event("Removed")
    def _removed(
        self, *, on: date, decision: str, host_place: str | None, recorded_by: str
    ) -> None:
        self.status = MemberStatus.REMOVED.value
