"""Mobile-member branches (流动党员党支部) and joint branches (联合党支部) in the host place.

Where 3 or more members work at one employer or locality, a branch is formed there; fewer join a
joint branch. Forming one is an explicit act approved by a county-level (or higher) committee
after the origin and host consult; the approval is part of the event.

Its membership changes only by explicit acts with who, when and why (admit, beyond the norm of
50 only with a reason; move; remove; merge; dissolve), none of which leaves a mobile-member branch
below its floor of 3. A member's own departure from the host is a fact, not a choice: it may
leave the branch below the floor, which its view then shows (docs/flows.md, "Branches").
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation, WrongState
from shared.validation import validate_county_code


class BranchKind(StrEnum):
    MOBILE = "mobile"  # 流动党员党支部: members of one employer or locality
    JOINT = "joint"  # 联合党支部: members too few to form their own


class Basis(StrEnum):
    EMPLOYER = "employer"
    LOCALITY = "locality"
    MIXED = "mixed"  # a joint branch gathers members of several places


class BranchState(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # its members moved into another branch, which goes on
    DISSOLVED = "dissolved"  # its members became unbranched


class Change(StrEnum):
    """How a member came into or out of a branch (carried on the events and to the origin)."""

    ASSIGNED = "assigned"
    MOVED = "moved"
    MERGED = "merged"
    REMOVED = "removed"
    DISSOLVED = "dissolved"
    DEPARTED = "departed"  # the member left the host: a fact, not a branch decision


# Every field of an admission or release: eventsourcing wants each keyword when an event fires.
ADMITTED: dict[str, Any] = {"change": Change.ASSIGNED, "reason": "", "on": None, "recorded_by": ""}
RELEASED: dict[str, Any] = ADMITTED | {"change": Change.DEPARTED, "to_branch_id": None}


class MobileBranch(Aggregate):
    # Class-level defaults: snapshots taken before branches could close lack these attributes.
    state: str = BranchState.ACTIVE
    merged_into: str | None = None
    ended_on: date | None = None
    end_reason: str = ""
    over_norm_reason: str | None = None

    @event("Formed")
    def __init__(
        self,
        *,
        host_place: str,
        name: str,
        kind: str,
        basis: str,
        basis_value: str,
        approved_by: str,
        approving_committee: str,
        committee_place: str,
        approved_on: date,
        recorded_by: str,
    ) -> None:
        self.host_place, self.name, self.kind = host_place, name, kind
        self.basis, self.basis_value = basis, basis_value
        self.approved_by, self.approving_committee = approved_by, approving_committee
        self.committee_place, self.approved_on = committee_place, approved_on
        self.members: list[str] = []

    @classmethod
    def form(
        cls,
        *,
        host_place: str,
        name: str,
        kind: str,
        basis: str,
        basis_value: str,
        founding_members: int,
        minimum: int,
        approved_by: str,
        approving_committee: str,
        committee_place: str,
        approved_on: date,
        today: date,
        recorded_by: str,
    ) -> MobileBranch:
        if kind == BranchKind.MOBILE and founding_members < minimum:
            raise RuleViolation(
                f"a mobile-member branch needs at least {minimum} members, {founding_members} "
                "given; fewer members join a joint branch (联合党支部)",
                "branch.too_few_members",
            )
        if kind == BranchKind.MOBILE and basis == Basis.MIXED:
            raise RuleViolation(
                "a mobile-member branch is formed at one employer or locality",
                "branch.basis_required",
            )
        if approved_on > today:
            raise RuleViolation("approval date is in the future", "branch.future_approval")
        return cls(
            host_place=host_place,
            name=name,
            kind=kind,
            basis=basis,
            basis_value=basis_value,
            approved_by=approved_by,
            approving_committee=approving_committee,
            committee_place=validate_county_code(committee_place),
            approved_on=approved_on,
            recorded_by=recorded_by,
        )

    @staticmethod
    def create_id(**_: object) -> UUID:
        return uuid4()

    # --- rules ---------------------------------------------------------------------------------

    @property
    def has_floor(self) -> bool:
        # A joint branch exists for members too few to form their own: it has no floor.
        return self.kind == BranchKind.MOBILE

    def below_minimum(self, minimum: int) -> bool:
        return self.state == BranchState.ACTIVE and self.has_floor and len(self.members) < minimum

    def check_active(self) -> None:
        if self.state != BranchState.ACTIVE:
            raise WrongState(
                f"branch {self.name} was {self.state} on {self.ended_on}; it takes no changes",
                "branch.closed",
            )

    def check_date(self, on: date, today: date) -> None:
        if on > today:
            raise RuleViolation(
                "the date of a branch change is in the future", "branch.future_date"
            )
        if on < self.approved_on:
            raise RuleViolation(
                f"the branch was approved on {self.approved_on}, after {on}",
                "branch.before_formation",
            )

    def check_member(self, member_id: str) -> None:
        if member_id not in self.members:
            raise WrongState(
                f"member {member_id} is not in branch {self.name}", "branch.not_member"
            )

    def _keep_floor(self, leaving: int, minimum: int, act: str) -> None:
        left = len(self.members) - leaving
        if self.has_floor and left < minimum:
            raise RuleViolation(
                f"{act} would leave mobile-member branch {self.name} with {left} members, below "
                f"the minimum of {minimum}; merge the branch into another or dissolve it instead",
                "branch.below_minimum",
            )

    # --- admission -------------------------------------------------------------------------------

    def admit(
        self, *, member_id: str, maximum: int, over_norm_reason: str | None = None, **act: Any
    ) -> None:
        """Admits a member; beyond `maximum` (the norm of 50) only with a recorded reason.
        `act`: change, reason, on, recorded_by (who, when, why)."""
        self.check_active()
        if member_id in self.members:
            raise WrongState("member is already in this branch", "branch.already_member")
        over = len(self.members) + 1 > maximum
        if over and not (over_norm_reason or "").strip():
            raise RuleViolation(
                f"branch {self.name} has {len(self.members)} members; a branch normally has at "
                f"most {maximum}: admitting more needs over_norm_reason (why it is not split or "
                "a general branch 党总支 formed)",
                "branch.over_norm",
            )
        reason = over_norm_reason if over else None
        self._admitted(member_id=member_id, **(ADMITTED | act), over_norm_reason=reason)

    @event("MemberAdmitted")
    def _admitted(
        self,
        *,
        member_id: str,
        change: str = Change.ASSIGNED,
        reason: str = "",
        on: date | None = None,
        recorded_by: str = "",
        over_norm_reason: str | None = None,
    ) -> None:
        self.members.append(member_id)
        if over_norm_reason:
            self.over_norm_reason = over_norm_reason

    # --- release -------------------------------------------------------------------------------

    def release(self, *, member_id: str, **act: Any) -> None:
        """Unchecked: called directly only for a member's own departure from the host.
        `act`: change, reason, on, recorded_by, to_branch_id."""
        self._released(member_id=member_id, **(RELEASED | act))

    # The defaults let events stored before these fields existed be replayed (eventsourcing
    # requires every keyword when an event is triggered, so they never stand in for a value).
    @event("MemberReleased")
    def _released(
        self,
        *,
        member_id: str,
        change: str = Change.DEPARTED,
        reason: str = "",
        on: date | None = None,
        recorded_by: str = "",
        to_branch_id: str | None = None,
    ) -> None:
        self.members.remove(member_id)

    def let_go(self, *, member_id: str, minimum: int, today: date, **act: Any) -> None:
        """A member moved to another branch or removed (`act`: change, reason, on, recorded_by,
        to_branch_id): never below the floor."""
        self.check_active()
        self.check_member(member_id)
        self.check_date(act["on"], today)
        doing = "moving the member out" if act["change"] == Change.MOVED else "removing the member"
        self._keep_floor(1, minimum, doing)
        self.release(member_id=member_id, **act)

    # --- the branch as a whole --------------------------------------------------------------------

    def _close(self, change: str, reason: str, on: date, today: date, **common: str) -> list[str]:
        self.check_active()
        self.check_date(on, today)
        leaving = list(self.members)
        for member_id in leaving:
            self.release(member_id=member_id, change=change, reason=reason, on=on, **common)
        return leaving

    def merge_into(
        self, into: MobileBranch, *, reason: str, on: date, today: date, recorded_by: str
    ) -> list[str]:
        """Ends this branch as merged into `into`; returns the members to move there."""
        into.check_active()
        if into.id == self.id:
            raise RuleViolation("a branch cannot be merged into itself", "branch.merge_into_self")
        into.check_date(on, today)
        moving = self._close(
            Change.MERGED, reason, on, today, recorded_by=recorded_by, to_branch_id=str(into.id)
        )
        self._merged(
            into_branch_id=str(into.id),
            into_branch_name=into.name,
            reason=reason,
            merged_on=on,
            recorded_by=recorded_by,
        )
        return moving

    @event("Merged")
    def _merged(
        self,
        *,
        into_branch_id: str,
        into_branch_name: str,
        reason: str,
        merged_on: date,
        recorded_by: str,
    ) -> None:
        self.state, self.merged_into = BranchState.MERGED, into_branch_id
        self.ended_on, self.end_reason = merged_on, reason

    def dissolve(self, *, reason: str, on: date, today: date, recorded_by: str) -> list[str]:
        """Ends this branch; returns its members, who become unbranched."""
        leaving = self._close(Change.DISSOLVED, reason, on, today, recorded_by=recorded_by)
        self._dissolved(reason=reason, dissolved_on=on, recorded_by=recorded_by)
        return leaving

    @event("Dissolved")
    def _dissolved(self, *, reason: str, dissolved_on: date, recorded_by: str) -> None:
        self.state, self.ended_on, self.end_reason = BranchState.DISSOLVED, dissolved_on, reason
