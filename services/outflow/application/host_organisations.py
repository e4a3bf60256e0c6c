"""The county's decisions on its host offices' organisations, and the evidence of commitments
and service its hosts report (docs/practices.md)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from services.outflow.application.core import NotFoundError, OutflowCore
from services.outflow.domain.host_organisation import HostOrganisationView, host_organisation_id
from services.outflow.domain.service_evidence import ServiceEvidence, evidence_id_for


class HostOrganisationCommands(OutflowCore):
    def host_organisation(self, host_place: str) -> HostOrganisationView | None:
        found = self._find(host_organisation_id(self.place, host_place))
        return found if isinstance(found, HostOrganisationView) else None

    def decide_organisation_change(
        self,
        host_place: str,
        proposal_id: str,
        *,
        decision: str,
        decided_by: str,
        decided_on: date,
        reason: str,
        recorded_by: str,
        today: date | None = None,
    ) -> HostOrganisationView:
        view = self.host_organisation(host_place)
        if view is None:
            raise NotFoundError("organisation.not_found", f"no organisation at {host_place}")
        view.decide(
            proposal_id=proposal_id,
            decision=decision,
            decided_by=decided_by,
            decided_on=decided_on,
            reason=reason,
            today=self._today(today),
            recorded_by=recorded_by,
        )
        self.save(view)
        return view

    def service_evidence(self, member_id: UUID) -> ServiceEvidence | None:
        found = self._find(evidence_id_for(member_id))
        return found if isinstance(found, ServiceEvidence) else None

    def evidence_summary(self, member_id: UUID, year: int) -> dict[str, Any]:
        """Commitments and service hours the hosts reported for the year (assessment view)."""
        evidence = self.service_evidence(member_id)
        if evidence is None:
            return {"commitments": [], "service_hours": 0, "service_entries": 0}
        return evidence.summary(year)
