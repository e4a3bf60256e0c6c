"""The host district's application: commands (get → act → save) over its event-sourced record."""

from __future__ import annotations

from services.inflow.application.assessment import AssessmentCommands
from services.inflow.application.base import InflowBase
from services.inflow.application.cards import CardCommands
from services.inflow.application.certificates import CertificateNoticeCommands
from services.inflow.application.fixed_days import FixedDayCommands
from services.inflow.application.members import MemberCommands
from services.inflow.application.organisation import OrganisationCommands
from services.inflow.application.service import ServiceCommands
from services.inflow.application.tree import OrganisationTreeCommands


class InflowApplication(
    CertificateNoticeCommands,  # before MemberCommands: a void certificate is refused first
    OrganisationTreeCommands,  # the host office's tree (docs/practices.md)
    ServiceCommands,  # commitments and service hours (docs/practices.md)
    MemberCommands,
    CardCommands,  # the pioneer card (docs/practices.md)
    FixedDayCommands,  # the branches' fixed days (docs/practices.md)
    OrganisationCommands,
    AssessmentCommands,
    InflowBase,
):
    pass


__all__ = ["InflowApplication"]
