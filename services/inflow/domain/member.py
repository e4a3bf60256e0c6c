"""A member as the host district holds them: expected, reported, left or received.

Name, resident ID, certificate, employer and addresses are the origin's facts (the origin keeps
the membership); the host records only its own: reporting (报到), locality, branch, attendance,
leaving, and the receipt of a transfer (组织关系转接), after which the host owns the record.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import OriginOwned, RuleViolation, WrongState
from services.inflow.domain.member_status import (  # also imported from here by many modules
    GONE_BY_ORIGIN,
    PRESENT,
    HostStatus,
    hosted_member_id,
)
from services.inflow.domain.succession import RecordSuccession
from shared.validation import validate_county_code, validate_phone, validate_resident_id


class HostedMember(RecordSuccession):
    class ArrivalExpected(Aggregate.Created):
        """A departure to this host arrived from the origin (through sync, never typed in)."""

        host_place: str
        origin_member_id: str
        origin_place: str
        name: str
        resident_id: str
        sex: str
        phone: str
        employer: str
        host_address: str
        departed_on: date
        certificate_no: str

    class ArrivedUnannounced(Aggregate.Created):
        """Someone reported whom no departure announced; the origin is asked to confirm."""

        host_place: str
        origin_place: str
        name: str
        resident_id: str
        phone: str
        employer: str
        locality: str
        certificate_no: str | None
        reported_on: date
        recorded_by: str

        def apply(self, aggregate: HostedMember) -> None:
            aggregate.status = HostStatus.REPORTED
            aggregate.reported_on, aggregate.locality = self.reported_on, self.locality
            aggregate.confirmed = False

    @staticmethod
    def create_id(host_place: str, origin_member_id: str, **_: object) -> UUID:
        return hosted_member_id(host_place, origin_member_id)

    def __init__(
        self,
        *,
        host_place: str,
        origin_place: str,
        name: str,
        resident_id: str,
        phone: str,
        sex: str = "",
        employer: str = "",
        host_address: str = "",
        departed_on: date | None = None,
        certificate_no: str | None = None,
        origin_member_id: str | None = None,
    ) -> None:
        self.host_place, self.origin_place = host_place, origin_place
        self.origin_member_id = origin_member_id
        self.name, self.resident_id, self.sex, self.phone = name, resident_id, sex, phone
        self.employer, self.host_address = employer, host_address
        self.departed_on, self.certificate_no = departed_on, certificate_no
        self.status = HostStatus.EXPECTED
        self.confirmed = True
        self.reported_on: date | None = None
        self.locality = ""
        self.overdue_due_on: date | None = None
        self.branch_id: str | None = None
        self.branch_name = ""
        self.attended: list[str] = []
        self.left_on: date | None = None
        self.letter: dict[str, Any] | None = None
        self.origin_status: str | None = None

    @classmethod
    def expect(cls, **facts: Any) -> HostedMember:
        return cls._create(cls.ArrivalExpected, **facts)

    @classmethod
    def walk_in(
        cls,
        *,
        record_id: UUID,
        host_place: str,
        origin_place: str,
        name: str,
        resident_id: str,
        phone: str,
        employer: str,
        locality: str,
        certificate_no: str | None,
        reported_on: date,
        today: date,
        recorded_by: str,
    ) -> HostedMember:
        if reported_on > today:
            raise RuleViolation("reporting date is in the future", "reporting.future_date")
        return cls._create(
            cls.ArrivedUnannounced,
            id=record_id,
            host_place=host_place,
            origin_place=validate_county_code(origin_place),
            name=name,
            resident_id=validate_resident_id(resident_id, today=today),
            phone=validate_phone(phone),
            employer=employer,
            locality=locality,
            certificate_no=certificate_no,
            reported_on=reported_on,
            recorded_by=recorded_by,
        )

    # --- reporting (报到) and the deadline -------------------------------------------------

    def report(
        self,
        *,
        certificate_no: str,
        reported_on: date,
        today: date,
        recorded_by: str,
        locality: str = "",
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
        if self.departed_on and reported_on < self.departed_on:
            raise RuleViolation("reporting before departure", "reporting.before_departure")
        self._reported(reported_on=reported_on, recorded_by=recorded_by, locality=locality)

    @event("Reported")
    def _reported(self, *, reported_on: date, recorded_by: str, locality: str = "") -> None:
        self.status = HostStatus.REPORTED
        self.reported_on, self.locality = reported_on, locality

    def due_on(self, deadline_days: int) -> date | None:
        return self.departed_on + timedelta(days=deadline_days) if self.departed_on else None

    def flag_overdue(self, *, as_of: date, deadline_days: int) -> bool:
        """Flags a missed reporting deadline once per deadline; True if this call flagged it."""
        due = self.due_on(deadline_days)
        if self.status != HostStatus.EXPECTED or due is None or as_of <= due:
            return False
        if self.overdue_due_on == due:
            return False
        self._overdue_flagged(due_on=due, as_of=as_of)
        return True

    @event("ReportingOverdue")
    def _overdue_flagged(self, *, due_on: date, as_of: date) -> None:
        self.overdue_due_on = due_on

    # --- branch and activities ---------------------------------------------------------------

    def assign_branch(
        self, *, branch_id: str, branch_name: str, change: str = "assigned", reason: str = ""
    ) -> None:
        if self.status not in PRESENT:
            raise WrongState(f"member is {self.status}; only a reported member joins a branch")
        if self.branch_id == branch_id:
            raise WrongState("member is already in this branch", "branch.already_member")
        self._branch_assigned(
            branch_id=branch_id,
            branch_name=branch_name,
            previous_branch_id=self.branch_id,
            change=change,
            reason=reason,
        )

    @event("BranchAssigned")
    def _branch_assigned(
        self,
        *,
        branch_id: str,
        branch_name: str,
        previous_branch_id: str | None,
        change: str = "assigned",  # or "moved", "merged" (docs/flows.md, "Branches")
        reason: str = "",
    ) -> None:
        self.branch_id, self.branch_name = branch_id, branch_name

    def leave_branch(self, *, branch_id: str, change: str, reason: str) -> None:
        """Removed from the branch, or the branch dissolved: the member is unbranched."""
        if self.branch_id != branch_id:
            raise WrongState(f"member is not in branch {branch_id}", "branch.not_member")
        self._branch_left(branch_id=branch_id, change=change, reason=reason)

    @event("BranchLeft")
    def _branch_left(self, *, branch_id: str, change: str, reason: str) -> None:
        self.branch_id, self.branch_name = None, ""

    def attend(
        self, *, activity_id: str, kind: str, title: str, held_on: date, organiser: str
    ) -> None:
        if self.reported_on is None or held_on < self.reported_on:
            raise RuleViolation(
                f"activity on {held_on} is before the member's arrival (reported "
                f"{self.reported_on or 'not yet'})",
                "activity.before_arrival",
            )
        if self.left_on is not None and held_on > self.left_on:
            raise RuleViolation(
                f"member left on {self.left_on}, before the activity", "activity.member_not_hosted"
            )
        if activity_id in self.attended:
            raise WrongState("attendance already recorded", "activity.already_recorded")
        self._attended(
            activity_id=activity_id, kind=kind, title=title, held_on=held_on, organiser=organiser
        )

    @event("Attended")
    def _attended(
        self, *, activity_id: str, kind: str, title: str, held_on: date, organiser: str
    ) -> None:
        self.attended.append(activity_id)

    def hosted_in(self, year: int) -> bool:
        """Whether the member was here (reported, not yet left) at any time in `year`."""
        if self.reported_on is None or self.reported_on.year > year:
            return False
        return self.left_on is None or self.left_on.year >= year

    # --- leaving and transfer in (组织关系转接) -------------------------------------------------

    def leave(self, *, left_on: date, reason: str, destination: str, today: date) -> None:
        if self.status != HostStatus.REPORTED:
            raise WrongState(f"member is {self.status}; only a reported member leaves")
        if left_on > today:
            raise RuleViolation("leaving date is in the future", "leaving.future_date")
        if self.reported_on and left_on < self.reported_on:
            raise RuleViolation("leaving before reporting", "leaving.before_arrival")
        self._left(left_on=left_on, reason=reason, destination=destination)

    @event("LeftHost")
    def _left(self, *, left_on: date, reason: str, destination: str) -> None:
        self.status, self.left_on = HostStatus.LEFT, left_on

    @event("TransferLetterReceived")
    def receive_letter(
        self, *, letter_no: str, receiving_organisation: str, issued_on: date, valid_until: date
    ) -> None:
        self.letter = {
            "letter_no": letter_no,
            "receiving_organisation": receiving_organisation,
            "issued_on": issued_on.isoformat(),
            "valid_until": valid_until.isoformat(),
        }

    @event("TransferLetterVoided")
    def void_letter(self, *, letter_no: str, reason: str) -> None:
        self.letter = None

    def return_receipt(self, *, letter_no: str, received_on: date, today: date) -> None:
        # An expected member who arrives with the letter is received on it (no report first).
        if self.status not in (HostStatus.EXPECTED, HostStatus.REPORTED):
            raise WrongState(f"member is {self.status}; only a member here is received")
        if self.letter is None or self.letter["letter_no"] != letter_no:
            raise RuleViolation(
                f"no valid introduction letter {letter_no} for this member", "transfer.no_letter"
            )
        if received_on > today:
            raise RuleViolation("receipt date is in the future", "transfer.future_date")
        if received_on < date.fromisoformat(self.letter["issued_on"]):
            raise RuleViolation("receipt before the letter was issued", "transfer.before_issue")
        if received_on > date.fromisoformat(self.letter["valid_until"]):
            raise RuleViolation("the introduction letter had expired", "transfer.letter_expired")
        self._received(
            letter_no=letter_no,
            received_on=received_on,
            receiving_organisation=self.letter["receiving_organisation"],
            by_origin=False,
        )

    def take_over_on_origin_receipt(
        self, *, letter_no: str, received_on: date, receiving_organisation: str
    ) -> bool:
        """The origin recorded the receipt (on paper): the host owns the record from now on,
        exactly as if it had returned the receipt itself. False if it already had (idempotent).

        The origin checked the letter, its organisation and its host, and closed its record:
        the host takes it over whatever its state here, even "left" (its leaving crossed the
        receipt on the wire), or nobody would own the member (docs/flows.md)."""
        if self.status == HostStatus.RECEIVED:
            return False
        self._received(
            letter_no=letter_no,
            received_on=received_on,
            receiving_organisation=receiving_organisation,
            by_origin=True,
        )
        return True

    @event("ReceiptReturned")
    def _received(
        self,
        *,
        letter_no: str,
        received_on: date,
        receiving_organisation: str,
        by_origin: bool = False,  # recorded at the origin (on paper); absent in older events
    ) -> None:
        self.status, self.letter = HostStatus.RECEIVED, None

    # --- facts from the origin, and the host's own corrections after transfer -----------------

    def check_origin_owned(self) -> None:
        if self.status == HostStatus.RECEIVED:
            raise WrongState("membership was transferred in: the host owns this record now")

    def linkable_walk_in(self) -> bool:
        """Reported unannounced, not yet known to the origin: its departure links here."""
        return (
            not self.confirmed
            and self.origin_member_id is None
            and self.status == HostStatus.REPORTED
        )

    @event("DepartureLinked")
    def link_departure(
        self,
        *,
        origin_member_id: str,
        sex: str,
        employer: str,
        host_address: str,
        departed_on: date,
        certificate_no: str,
    ) -> None:
        """The origin recorded the departure of this walk-in (未报先到): the same record takes the
        departure's facts; it stays reported, unconfirmed until the origin confirms the arrival."""
        self.origin_member_id, self.sex = origin_member_id, sex
        self.employer = employer or self.employer
        self.host_address, self.departed_on = host_address, departed_on
        self.certificate_no = certificate_no

    @event("OriginConfirmed")
    def confirm_origin(self, *, origin_member_id: str, certificate_no: str | None) -> None:
        self.origin_member_id, self.confirmed = origin_member_id, True
        self.certificate_no = certificate_no or self.certificate_no

    @event("DetailsCorrected")
    def correct_details(self, *, changes: dict[str, str], by_origin: bool) -> None:
        for field, value in changes.items():
            setattr(self, field, value)

    def edit_details(self, changes: dict[str, str]) -> None:
        """The host edits personal details: only once the record is its own."""
        if self.status != HostStatus.RECEIVED:
            raise OriginOwned(
                "name, ID, phone, employer and address are the origin county's facts until the "
                "membership is transferred in; ask the origin to correct them"
            )
        self.correct_details(changes=changes, by_origin=False)

    @event("OriginStatusChanged")
    def origin_status_changed(self, *, status: str, reason_code: str | None, on: date) -> None:
        self.origin_status = status
        if status in GONE_BY_ORIGIN and self.status != HostStatus.LEFT:
            self.status, self.left_on = HostStatus.LEFT, on

    @event("ExpectedAgain")
    def expect_again(
        self, *, employer: str, host_address: str, departed_on: date, certificate_no: str
    ) -> None:
        """A member who left departs to this host once more: expected again, same record."""
        self.employer, self.host_address = employer, host_address
        self.departed_on, self.certificate_no = departed_on, certificate_no
        self.status, self.reported_on, self.left_on = HostStatus.EXPECTED, None, None
        self.branch_id, self.branch_name, self.overdue_due_on = None, "", None
