"""The origin county's view of the organisation its members have at one host office: the tree
as the host reports it, the proposals awaiting the county's decision, and every step of its
growth (docs/practices.md, "Organisations that grow"). Built from the host's facts; the county's
own acts here are its decisions."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import RuleViolation, WrongState


def host_organisation_id(origin_place: str, host_place: str) -> UUID:
    return uuid5(
        NAMESPACE_URL, f"liangdi:origin-view-of-host-organisation:{origin_place}:{host_place}"
    )


class HostOrganisationView(Aggregate):
    @staticmethod
    def create_id(origin_place: str, host_place: str, **_: object) -> UUID:
        return host_organisation_id(origin_place, host_place)

    @event("Opened")
    def __init__(self, *, origin_place: str, host_place: str, organisation_id: str) -> None:
        self.origin_place, self.host_place = origin_place, host_place
        self.organisation_id = organisation_id  # the host's record: its facts name it
        self.level, self.name = "branches", ""
        self.approved_by = ""
        self.approved_on: date | None = None
        self.branches: list[dict[str, Any]] = []
        self.member_count = 0
        self.as_of: date | None = None
        self.proposals: dict[str, dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []

    @event("ProposalReceived")
    def receive_proposal(
        self,
        *,
        proposal_id: str,
        to_level: str,
        name: str,
        reason: str,
        proposed_on: date,
        branches: list[dict[str, Any]],
        member_count: int,
    ) -> None:
        self.branches, self.member_count, self.as_of = branches, member_count, proposed_on
        self.proposals[proposal_id] = {
            "proposal_id": proposal_id,
            "to_level": to_level,
            "name": name,
            "reason": reason,
            "proposed_on": proposed_on.isoformat(),
            "branches": branches,
            "member_count": member_count,
            "state": "pending",
        }
        self.history.append(
            {"step": "proposed", "proposal_id": proposal_id, "to_level": to_level, "name": name}
        )

    def decide(
        self,
        *,
        proposal_id: str,
        decision: str,
        decided_by: str,
        decided_on: date,
        reason: str,
        today: date,
        recorded_by: str,
    ) -> None:
        found = self.proposals.get(proposal_id)
        if found is None:
            raise WrongState(f"no proposal {proposal_id}", "organisation.no_such_proposal")
        if found["state"] != "pending":
            raise WrongState(f"proposal {proposal_id} is {found['state']}", "organisation.decided")
        if decided_on > today or decided_on < date.fromisoformat(found["proposed_on"]):
            raise RuleViolation(
                f"the decision ({decided_on}) falls between the proposal ({found['proposed_on']}) "
                f"and today ({today})",
                "organisation.decision_date",
            )
        if decision == "refused" and not reason.strip():
            raise RuleViolation("a refusal says why", "organisation.reason_required")
        self._decided(
            proposal_id=proposal_id,
            host_place=self.host_place,
            decision=decision,
            decided_by=decided_by,
            decided_on=decided_on,
            reason=reason,
            recorded_by=recorded_by,
        )

    @event("Decided")
    def _decided(
        self,
        *,
        proposal_id: str,
        host_place: str,
        decision: str,
        decided_by: str,
        decided_on: date,
        reason: str,
        recorded_by: str,
    ) -> None:
        self.proposals[proposal_id]["state"] = decision
        self.history.append(
            {
                "step": decision,
                "proposal_id": proposal_id,
                "by": decided_by,
                "on": decided_on.isoformat(),
                "reason": reason,
            }
        )

    @event("ChangeApplied")
    def record_applied(
        self,
        *,
        proposal_id: str,
        level: str,
        name: str,
        applied_on: date,
        branches: list[dict[str, Any]],
        member_count: int,
    ) -> None:
        """The host applied an approved change: the tree as it reports it now."""
        self.level, self.name = level, name
        approval = next((h for h in reversed(self.history) if h["proposal_id"] == proposal_id), {})
        self.approved_by, self.approved_on = approval.get("by", ""), applied_on
        self.branches, self.member_count, self.as_of = branches, member_count, applied_on
        if proposal_id in self.proposals:
            self.proposals[proposal_id]["state"] = "applied"
        self.history.append(
            {"step": "applied", "proposal_id": proposal_id, "level": level, "name": name}
        )

    @event("TreeReported")
    def record_report(
        self,
        *,
        level: str,
        name: str,
        reported_on: date,
        branches: list[dict[str, Any]],
        member_count: int,
    ) -> None:
        """The tree and its counts as the host reports them (no change of the tree)."""
        self.level, self.name = level, name
        self.branches, self.member_count, self.as_of = branches, member_count, reported_on
