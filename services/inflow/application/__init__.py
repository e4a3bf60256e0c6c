"""The host district's application: commands (get → act → save) over its event-sourced record."""

from __future__ import annotations

from services.inflow.application.assessment import AssessmentCommands
from services.inflow.application.base import InflowBase
from services.inflow.application.members import MemberCommands
from services.inflow.application.organisation import OrganisationCommands


class InflowApplication(MemberCommands, OrganisationCommands, AssessmentCommands, InflowBase):
    pass


__all__ = ["InflowApplication"]
