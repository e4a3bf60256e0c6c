"""State and guards shared by the parts of a member's record (see member.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import RuleViolation, WrongState
from services.outflow.domain.status import CLOSED, PARTICIPATION, MemberStatus
from shared.validation import ValidationFailed, birth_date_of


class MemberBase(Aggregate):
    """Attributes are set by ``MobileMember.__init__``; the parts only read and change them.

    The parts are separate classes to keep modules small; they are one aggregate, so one
    member's facts stay in one stream, in order, for the host and for the history. (No class
    annotations here: eventsourcing would take them for fields of the created event.)
    """

    # Hosts the member moved on from or came home from: their late facts (an activity, the
    # year's evaluation) are still the member's history. A class default, so records from before
    # it load as well.
    former_hosts = ()

    def hosted_before_by(self, place: str) -> bool:
        return place in self.former_hosts

    def _left_behind(self, host_place: str | None) -> None:
        if host_place and host_place not in self.former_hosts:
            self.former_hosts = (*self.former_hosts, host_place)

    def _ensure_open(self) -> None:
        if self.status in CLOSED:
            raise WrongState(
                f"the record is closed (member {self.status}); its history stays readable",
                "member.closed",
            )

    def _ensure(self, allowed: Iterable[str], action: str) -> None:
        self._ensure_open()
        allowed = tuple(allowed)
        if self.status not in allowed:
            raise WrongState(
                f"cannot {action}: member is {self.status}, must be one of "
                + ", ".join(str(s) for s in allowed)
            )

    def _not_before_birth(self, day: date, code: str, what: str) -> None:
        try:
            born = birth_date_of(self.resident_id)
        except ValidationFailed:  # registered numbers are valid; nothing to compare otherwise
            return
        if day < born:
            raise RuleViolation(f"{what} ({day}) is before the member's birth date", code)

    def _touch(self, on: date, kind: str) -> None:
        """Any contact resets the lost-contact clock; activity and dues count as taking part."""
        if self.last_contact_on is None or on > self.last_contact_on:
            self.last_contact_on = on
        if kind in PARTICIPATION and (
            self.last_participation_on is None or on > self.last_participation_on
        ):
            self.last_participation_on = on

    def contact_clock_since(self) -> date | None:
        """The day the lost-contact clock counts from: last contact, else the departure."""
        days = [d for d in (self.last_contact_on, self.departed_on) if d is not None]
        return max(days) if days else None

    def _restore_if_lost(self, on: date, recorded_by: str, note: str) -> None:
        """Contact restored at any point ends the lost status (失联 → 恢复联系).

        A suspended membership (停止党籍) is a decision: contact alone never undoes it, only the
        origin's explicit decision to restore it (恢复党籍, `restore`). The contact still counts:
        a member in contact again is no longer "unreachable", so removal waits for that decision.
        """
        if self.status == MemberStatus.LOST and on >= (self.lost_on or on):
            self._restored(on=on, note=note, host_place=self.host_place, recorded_by=recorded_by)

    @event("Restored")
    def _restored(self, *, on: date, note: str, host_place: str | None, recorded_by: str) -> None:
        self.status = MemberStatus.DEPARTED.value
        self.lost_reason, self.lost_on, self.suspended_on = None, None, None
        self._touch(on, "other")
