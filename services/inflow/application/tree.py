"""The host office's organisation tree: proposals computed from its branches, applied once the
origin county approved them (docs/practices.md, "Organisations that grow")."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from services.inflow.application.base import InflowBase
from services.inflow.domain.organisation import HostOrganisation, Thresholds, organisation_id_for
from shared.validation import validate_county_code
from shared.validation.bounds import china_today


class OrganisationTreeCommands(InflowBase):
    def organisation(self, origin_place: str) -> HostOrganisation | None:
        try:
            found = self.repository.get(organisation_id_for(self.place, origin_place))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, HostOrganisation) else None

    def propose_organisation_change(
        self,
        *,
        origin_place: str,
        to_level: str,
        name: str,
        reason: str,
        branches: list[dict[str, Any]],
        thresholds: Thresholds,
        recorded_by: str,
        today: date | None = None,
    ) -> str:
        """`branches`: the active branches with their members of `origin_place` (read model)."""
        origin_place = validate_county_code(origin_place)
        tree = self.organisation(origin_place) or HostOrganisation(self.place, origin_place)
        proposal_id = tree.propose(
            to_level=to_level,
            name=name,
            reason=reason,
            branches=branches,
            thresholds=thresholds,
            today=today or china_today(),
            recorded_by=recorded_by,
        )
        self.save(tree)
        return proposal_id

    def report_organisation(
        self,
        *,
        origin_place: str,
        branches: list[dict[str, Any]],
        recorded_by: str,
        today: date | None = None,
    ) -> None:
        origin_place = validate_county_code(origin_place)
        tree = self.organisation(origin_place) or HostOrganisation(self.place, origin_place)
        tree.report(branches=branches, today=today or china_today(), recorded_by=recorded_by)
        self.save(tree)
