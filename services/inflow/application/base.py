"""What every group of inflow commands needs: settings and finding records."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.inflow.domain.activity import Activity
from services.inflow.domain.branch import MobileBranch
from services.inflow.domain.errors import NotFound
from services.inflow.domain.fixed_days import FixedDays
from services.inflow.domain.links import OriginLink
from services.inflow.domain.member import HostedMember, hosted_member_id
from services.inflow.domain.pioneer_card import CardRegister
from shared.eventsourced import LiangdiApplication
from shared.security.identity import DEV_IDENTITY_KEY


class InflowBase(LiangdiApplication):
    name = "inflow"
    # Long-lived registers grow with every card and fixed day: snapshots keep loading them cheap.
    snapshotting_intervals = {
        HostedMember: 50,
        MobileBranch: 50,
        Activity: 50,
        CardRegister: 200,
        FixedDays: 50,
    }

    def __init__(
        self,
        env: dict[str, Any] | None = None,
        *,
        place: str,
        reporting_deadline_days: int = 30,
        branch_minimum: int = 3,
        branch_maximum: int = 50,
        max_amount_fen: int = 100_000_000,
        identity_key: str = DEV_IDENTITY_KEY,
    ):
        super().__init__(env=env)
        self.place = place
        self.identity_key = identity_key  # keys the person index (domain/walk_ins.py)
        self.max_amount_fen = max_amount_fen  # ceiling per transaction (LIANGDI_MAX_AMOUNT_FEN)
        self.reporting_deadline_days = reporting_deadline_days
        self.branch_minimum, self.branch_maximum = branch_minimum, branch_maximum

    def _get(self, aggregate_id: UUID, kind: type, what: str) -> Any:
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, kind):
            raise NotFound(f"no {what} {aggregate_id}", f"{what}.not_found")
        return found

    def get_member(self, member_id: UUID) -> HostedMember:
        return self._get(member_id, HostedMember, "member")

    def get_branch(self, branch_id: UUID) -> MobileBranch:
        return self._get(branch_id, MobileBranch, "branch")

    def get_activity(self, activity_id: UUID) -> Activity:
        return self._get(activity_id, Activity, "activity")

    def find_by_origin_member(self, origin_member_id: str) -> HostedMember | None:
        """The host record of an origin member, announced or confirmed after an unannounced
        report (then an OriginLink points to it)."""
        try:
            found = self.repository.get(hosted_member_id(self.place, origin_member_id))
        except AggregateNotFoundError:
            return None
        if isinstance(found, OriginLink):
            found = self.repository.get(found.host_record_id)
        for _ in range(100):  # a record handed on to a newer one (domain/succession.py)
            if not isinstance(found, HostedMember) or found.superseded_by is None:
                break
            found = self.repository.get(UUID(found.superseded_by))
        return found if isinstance(found, HostedMember) else None
