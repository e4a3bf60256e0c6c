"""Mobile-member branches (流动党员党支部) and joint branches (联合党支部) in the host place.

Where 3 or more members work at one employer or live in one locality, a branch is formed there;
fewer join a joint branch. Forming one is an explicit act approved by a county-level (or higher)
committee after the origin and host consult; the approval is part of the event.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation
from shared.validation import validate_county_code


class BranchKind(StrEnum):
    MOBILE = "mobile"  # 流动党员党支部: members of one employer or locality
    JOINT = "joint"  # 联合党支部: members too few to form their own


class Basis(StrEnum):
    EMPLOYER = "employer"
    LOCALITY = "locality"
    MIXED = "mixed"  # a joint branch gathers members of several places


class MobileBranch(Aggregate):
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

    @event("MemberAdmitted")
    def admit(self, *, member_id: str) -> None:
        self.members.append(member_id)

    @event("MemberReleased")
    def release(self, *, member_id: str) -> None:
        self.members.remove(member_id)
