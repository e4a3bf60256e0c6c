"""The origin county's application: commands and queries over its event-sourced record.

Split by concern into mixins over one eventsourcing Application (``OutflowCore``).
"""

from __future__ import annotations

from services.outflow.application.certificates import CertificateCommands
from services.outflow.application.core import (
    MemberAlreadyRegistered,
    MemberNotFound,
    NotFoundError,
)
from services.outflow.application.fund import (
    FundCommands,
    IdempotencyKeyReused,
    IdempotentRequest,
    Outcome,
)
from services.outflow.application.history import HistoryQueries
from services.outflow.application.host_organisations import HostOrganisationCommands
from services.outflow.application.lifecycle import LifecycleCommands
from services.outflow.application.members import DepartureRecorded, MemberCommands
from services.outflow.application.rules import OutflowRules

__all__ = [
    "DepartureRecorded",
    "IdempotencyKeyReused",
    "IdempotentRequest",
    "MemberAlreadyRegistered",
    "MemberNotFound",
    "NotFoundError",
    "OutflowApplication",
    "Outcome",
    "OutflowRules",
]


class OutflowApplication(
    MemberCommands,
    LifecycleCommands,
    FundCommands,
    HistoryQueries,
    CertificateCommands,  # reissue and cancellation (docs/practices.md)
    HostOrganisationCommands,  # host organisation trees, service evidence (docs/practices.md)
):
    """The origin county's record (流出地): one event store, one place."""
