"""The host office's organisation tree for one origin county's members: branches, a general
branch (党总支) above them once they are enough, a committee (党委) once the members are.

The Pingyi office in Shanghai grew from one branch to a general branch to a committee with six
branches; each step was the origin county's decision. So the tree changes only by a proposal the
host computes from its branches and members, approved by the origin county, then applied here
(docs/practices.md, "Organisations that grow"). Every step stays in `history`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation, WrongState


class Level(StrEnum):
    BRANCHES = "branches"  # branches only, each led directly by the office
    GENERAL_BRANCH = "general_branch"  # 党总支 above the branches
    COMMITTEE = "committee"  # 党委 above them


_ORDER = (Level.BRANCHES, Level.GENERAL_BRANCH, Level.COMMITTEE)


@dataclass(frozen=True)
class Thresholds:
    """When a level is due (settings of the host service, LIANGDI_GENERAL_BRANCH_MIN_*)."""

    general_branch_min_branches: int = 3
    general_branch_min_members: int = 51  # a branch normally has at most 50
    committee_min_members: int = 100

    def due(self, branches: int, members: int) -> Level:
        if members >= self.committee_min_members:
            return Level.COMMITTEE
        if branches >= self.general_branch_min_branches or members >= (
            self.general_branch_min_members
        ):
            return Level.GENERAL_BRANCH
        return Level.BRANCHES


def organisation_id_for(host_place: str, origin_place: str) -> UUID:
    """One tree per host office and origin county."""
    return uuid5(NAMESPACE_URL, f"liangdi:host-organisation:{host_place}:{origin_place}")


def rank(level: str) -> int:
    return _ORDER.index(Level(level))


class HostOrganisation(Aggregate):
    @staticmethod
    def create_id(host_place: str, origin_place: str) -> UUID:
        return organisation_id_for(host_place, origin_place)

    @event("Opened")
    def __init__(self, host_place: str, origin_place: str) -> None:
        self.host_place, self.origin_place = host_place, origin_place
        self.level: str = Level.BRANCHES
        self.name = ""
        self.approved_by = ""
        self.approved_on: date | None = None
        self.pending: dict[str, Any] | None = None
        self.last_reported_on: date | None = None
        self.history: list[dict[str, Any]] = []

    def propose(
        self,
        *,
        to_level: str,
        name: str,
        reason: str,
        branches: list[dict[str, Any]],
        thresholds: Thresholds,
        today: date,
        recorded_by: str,
    ) -> str:
        """Proposes the next level; `branches` (id, name, members of this origin) are the count
        it is computed from, sent to the origin with the proposal."""
        if self.pending is not None:
            raise WrongState(
                f"proposal {self.pending['proposal_id']} awaits the origin county's decision",
                "organisation.proposal_pending",
            )
        members = sum(b["members"] for b in branches)
        due = thresholds.due(len(branches), members)
        if rank(to_level) <= rank(self.level):
            raise RuleViolation(
                f"the organisation is already a {self.level}; a proposal grows it",
                "organisation.not_growing",
            )
        if rank(to_level) > rank(due):
            t = thresholds
            raise RuleViolation(
                f"{len(branches)} branches with {members} members call for {due}, not "
                f"{to_level} (a general branch at {t.general_branch_min_branches} branches or "
                f"{t.general_branch_min_members} members, a committee at "
                f"{t.committee_min_members} members)",
                "organisation.threshold_not_met",
            )
        proposal_id = str(uuid4())
        self._proposed(
            proposal_id=proposal_id,
            to_level=to_level,
            name=name,
            reason=reason,
            branches=branches,
            member_count=members,
            proposed_on=today,
            recorded_by=recorded_by,
        )
        return proposal_id

    @event("ChangeProposed")
    def _proposed(
        self,
        *,
        proposal_id: str,
        to_level: str,
        name: str,
        reason: str,
        branches: list[dict[str, Any]],
        member_count: int,
        proposed_on: date,
        recorded_by: str,
    ) -> None:
        self.pending = {
            "proposal_id": proposal_id,
            "to_level": to_level,
            "name": name,
            "reason": reason,
            "branch_count": len(branches),
            "member_count": member_count,
            "proposed_on": proposed_on.isoformat(),
        }
        self.history.append({"step": "proposed", **self.pending, "by": recorded_by})
        self.pending["branches"] = branches  # the counts the origin approves

    def decide(
        self, *, proposal_id: str, decision: str, decided_by: str, decided_on: date, reason: str
    ) -> None:
        """The origin county's decision, arriving as a fact: only on the pending proposal."""
        if self.pending is None or self.pending["proposal_id"] != proposal_id:
            raise WrongState(f"no pending proposal {proposal_id}", "organisation.no_such_proposal")
        if decision == "approved":
            self._applied(
                proposal_id=proposal_id,
                level=self.pending["to_level"],
                name=self.pending["name"],
                branches=self.pending["branches"],
                member_count=self.pending["member_count"],
                approved_by=decided_by,
                approved_on=decided_on,
            )
        else:
            self._refused(
                proposal_id=proposal_id, refused_by=decided_by, refused_on=decided_on, reason=reason
            )

    @event("ChangeApplied")
    def _applied(
        self,
        *,
        proposal_id: str,
        level: str,
        name: str,
        branches: list[dict[str, Any]],
        member_count: int,
        approved_by: str,
        approved_on: date,
    ) -> None:
        self.level, self.name = level, name
        self.approved_by, self.approved_on = approved_by, approved_on
        self.pending = None
        self.history.append(
            {
                "step": "approved_and_applied",
                "proposal_id": proposal_id,
                "level": level,
                "name": name,
                "by": approved_by,
                "on": approved_on.isoformat(),
            }
        )

    @event("ChangeRefused")
    def _refused(self, *, proposal_id: str, refused_by: str, refused_on: date, reason: str) -> None:
        self.pending = None
        self.history.append(
            {
                "step": "refused",
                "proposal_id": proposal_id,
                "by": refused_by,
                "on": refused_on.isoformat(),
                "reason": reason,
            }
        )

    def report(self, *, branches: list[dict[str, Any]], today: date, recorded_by: str) -> None:
        """Sends the county the tree as it stands now (no change: not in `history`)."""
        self._reported(
            branches=branches,
            member_count=sum(b["members"] for b in branches),
            reported_on=today,
            recorded_by=recorded_by,
        )

    @event("TreeReported")
    def _reported(
        self,
        *,
        branches: list[dict[str, Any]],
        member_count: int,
        reported_on: date,
        recorded_by: str,
    ) -> None:
        self.last_reported_on = reported_on
