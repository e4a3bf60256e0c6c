"""Moving from one host place to another (异地流动) without a false return home.

A member hosted by one district who now lives and works in another keeps their departure: the
origin records the move, with the activity certificate endorsed for the new place (签注) or a new
certificate (the old number is then no longer theirs). The old host closes its record, the new
host expects the member, and the member reports (报到) at the new host as after a departure.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import event

from services.outflow.domain.base import MemberBase
from services.outflow.domain.errors import RuleViolation, WrongState, not_in_future
from services.outflow.domain.status import MemberStatus

ENDORSE, NEW = "endorse", "new"


class HostMoves(MemberBase):
    def move_to_host(
        self,
        *,
        to_host_place: str,
        moved_on: date,
        certificate: str,
        new_certificate_no: str | None,
        employer: str,
        host_address: str,
        today: date,
        recorded_by: str,
    ) -> None:
        # A lost member is first found (contact ends 失联), a suspended one first restored.
        self._ensure([MemberStatus.DEPARTED], "record a move to another host")
        if to_host_place in (self.host_place, self.origin_place):
            raise RuleViolation(
                f"the member is hosted by {self.host_place} of origin {self.origin_place}: "
                "a move goes to another place",
                "move.same_place",
            )
        if self.open_letter():
            raise WrongState(
                "an introduction letter is open; void it before recording a move",
                "transfer.letter_open",
            )
        not_in_future(moved_on, today, "move.future_date", "the move")
        if self.departed_on and moved_on < self.departed_on:
            raise RuleViolation(
                f"the move ({moved_on}) is before the departure ({self.departed_on})",
                "move.before_departure",
            )
        if self.reported_on and moved_on < self.reported_on:
            raise RuleViolation(
                f"the move ({moved_on}) is before the report at {self.host_place} "
                f"({self.reported_on})",
                "move.before_report",
            )
        if certificate not in (ENDORSE, NEW) or (certificate == NEW) != bool(new_certificate_no):
            raise RuleViolation(
                "certificate is 'endorse' (the same number) or 'new' (a new number)",
                "move.certificate",
            )
        if certificate == ENDORSE and not self.certificate_no:
            raise WrongState(
                "the member's activity certificate was cancelled: a move needs a new one",
                "certificate.none",
            )
        self._moved(
            from_host_place=self.host_place,
            host_place=to_host_place,
            moved_on=moved_on,
            certificate_no=new_certificate_no or self.certificate_no,
            endorsed=certificate == ENDORSE,
            employer=employer,
            host_address=host_address,
            recorded_by=recorded_by,
        )

    @event("MovedToHost")
    def _moved(
        self,
        *,
        from_host_place: str | None,
        host_place: str,
        moved_on: date,
        certificate_no: str | None,
        endorsed: bool,
        employer: str,
        host_address: str,
        recorded_by: str,
    ) -> None:
        self._left_behind(from_host_place)
        self.host_place, self.certificate_no = host_place, certificate_no
        self.employer, self.host_address = employer, host_address
        self.reported_on, self.host_branch = None, None
        self.reporting_overdue_since, self.left_host_on = None, None
        self._touch(moved_on, "report")
