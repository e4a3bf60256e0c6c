"""Branches (流动党员党支部 / 联合党支部): forming them, and every change of their membership.

Each change is an explicit act with who, when and why; a member of one branch is never moved into
another silently (docs/flows.md, "Branches").
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.inflow.application.base import InflowBase
from services.inflow.domain.branch import Change, MobileBranch
from services.inflow.domain.errors import RuleViolation, WrongState
from services.inflow.domain.member import PRESENT, HostedMember, HostStatus
from shared.validation.bounds import china_today


class BranchCommands(InflowBase):
    def form_branch(
        self,
        *,
        name: str,
        kind: str,
        basis: str,
        basis_value: str,
        member_ids: list[UUID],
        approved_by: str,
        approving_committee: str,
        committee_place: str,
        approved_on: date,
        recorded_by: str,
        over_norm_reason: str | None = None,
        today: date | None = None,
    ) -> UUID:
        if len(set(member_ids)) != len(member_ids):
            raise RuleViolation("a member is listed twice", "branch.duplicate_member")
        members = [self.get_member(member_id) for member_id in member_ids]
        branch = MobileBranch.form(
            host_place=self.place,
            name=name,
            kind=kind,
            basis=basis,
            basis_value=basis_value,
            founding_members=len(members),
            minimum=self.branch_minimum,
            approved_by=approved_by,
            approving_committee=approving_committee,
            committee_place=committee_place,
            approved_on=approved_on,
            today=today or china_today(),
            recorded_by=recorded_by,
        )
        self._join(branch, members, over_norm_reason, recorded_by)
        self.save(branch, *members)
        return branch.id

    def assign_branch(
        self,
        branch_id: UUID,
        member_id: UUID,
        *,
        over_norm_reason: str | None = None,
        recorded_by: str = "",
    ) -> None:
        branch = self.get_branch(branch_id)
        member = self.get_member(member_id)
        self._join(branch, [member], over_norm_reason, recorded_by)
        self.save(branch, member)

    def _join(
        self,
        branch: MobileBranch,
        members: list[HostedMember],
        over_norm_reason: str | None,
        recorded_by: str,
    ) -> None:
        """Admits unbranched members; a member of another branch is never moved silently."""
        branch.check_active()
        for member in members:
            moving = member.status in PRESENT and member.branch_id not in (None, str(branch.id))
            if moving:
                raise WrongState(
                    f"member {member.id} is in branch {member.branch_name} ({member.branch_id}); "
                    "moving them is an explicit act: POST /api/v1/branches/"
                    f"{member.branch_id}/members/{member.id}/move with to_branch_id and reason",
                    "branch.member_in_other_branch",
                )
            member.assign_branch(branch_id=str(branch.id), branch_name=branch.name)
            branch.admit(
                member_id=str(member.id),
                maximum=self.branch_maximum,
                over_norm_reason=over_norm_reason,
                recorded_by=recorded_by,
            )

    def move_branch_member(
        self,
        branch_id: UUID,
        member_id: UUID,
        *,
        to_branch_id: UUID,
        reason: str,
        recorded_by: str,
        moved_on: date | None = None,
        over_norm_reason: str | None = None,
        today: date | None = None,
    ) -> None:
        if to_branch_id == branch_id:
            raise RuleViolation("the member is already in that branch", "branch.move_to_same")
        source, target = self.get_branch(branch_id), self.get_branch(to_branch_id)
        member = self.get_member(member_id)
        today = today or china_today()
        on = moved_on or today
        target.check_active()
        target.check_date(on, today)
        source.let_go(
            member_id=str(member.id),
            change=Change.MOVED,
            to_branch_id=str(target.id),
            minimum=self.branch_minimum,
            reason=reason,
            on=on,
            today=today,
            recorded_by=recorded_by,
        )
        target.admit(
            member_id=str(member.id),
            maximum=self.branch_maximum,
            over_norm_reason=over_norm_reason,
            change=Change.MOVED,
            reason=reason,
            on=on,
            recorded_by=recorded_by,
        )
        member.assign_branch(
            branch_id=str(target.id), branch_name=target.name, change=Change.MOVED, reason=reason
        )
        self.save(source, target, member)

    def remove_branch_member(
        self,
        branch_id: UUID,
        member_id: UUID,
        *,
        reason: str,
        recorded_by: str,
        removed_on: date | None = None,
        today: date | None = None,
    ) -> None:
        branch, member = self.get_branch(branch_id), self.get_member(member_id)
        today = today or china_today()
        branch.let_go(
            member_id=str(member.id),
            change=Change.REMOVED,
            minimum=self.branch_minimum,
            reason=reason,
            on=removed_on or today,
            today=today,
            recorded_by=recorded_by,
        )
        member.leave_branch(branch_id=str(branch.id), change=Change.REMOVED, reason=reason)
        self.save(branch, member)

    def merge_branch(
        self,
        branch_id: UUID,
        *,
        into_branch_id: UUID,
        reason: str,
        recorded_by: str,
        merged_on: date | None = None,
        over_norm_reason: str | None = None,
        today: date | None = None,
    ) -> None:
        """Merges the branch into another: its members move there, it ends as merged."""
        branch, into = self.get_branch(branch_id), self.get_branch(into_branch_id)
        today = today or china_today()
        on = merged_on or today
        moving = branch.merge_into(into, reason=reason, on=on, today=today, recorded_by=recorded_by)
        members = [self.get_member(UUID(m)) for m in moving]
        for member in members:
            into.admit(
                member_id=str(member.id),
                maximum=self.branch_maximum,
                over_norm_reason=over_norm_reason,
                change=Change.MERGED,
                reason=reason,
                on=on,
                recorded_by=recorded_by,
            )
            member.assign_branch(
                branch_id=str(into.id), branch_name=into.name, change=Change.MERGED, reason=reason
            )
        self.save(branch, into, *members)

    def dissolve_branch(
        self,
        branch_id: UUID,
        *,
        reason: str,
        recorded_by: str,
        dissolved_on: date | None = None,
        today: date | None = None,
    ) -> None:
        """Dissolves the branch: its members become unbranched (free to join another)."""
        branch = self.get_branch(branch_id)
        today = today or china_today()
        leaving = branch.dissolve(
            reason=reason, on=dissolved_on or today, today=today, recorded_by=recorded_by
        )
        members = [self.get_member(UUID(m)) for m in leaving]
        for member in members:
            member.leave_branch(branch_id=str(branch.id), change=Change.DISSOLVED, reason=reason)
        self.save(branch, *members)

    def branch_after_departure(self, member: HostedMember) -> list[MobileBranch]:
        """A member who left the host leaves their branch too: a fact, not a branch decision,
        so the branch may fall below its floor (its view then says so)."""
        if member.status != HostStatus.LEFT or not member.branch_id:
            return []
        branch = self.get_branch(UUID(member.branch_id))
        if str(member.id) not in branch.members:
            return []
        branch.release(member_id=str(member.id), change=Change.DEPARTED, on=member.left_on)
        return [branch]
