"""The party organisations registered in the host district, which take pioneer cards.

In the Puyuan model a member takes part in the activities of any party organisation of the host
area: a community, an enterprise, a school, a branch. The district keeps the list of those that
do, so that an attendance by card comes from an organisation the district knows and a check-in
names who held the activity.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import RuleViolation, WrongState


class OrganisationKind(StrEnum):
    COMMUNITY = "community"  # 社区党组织
    ENTERPRISE = "enterprise"  # 企业党组织
    PUBLIC_INSTITUTION = "public_institution"  # 机关事业单位党组织
    SCHOOL = "school"
    MOBILE_BRANCH = "mobile_branch"  # a mobile-member branch of the host
    OTHER = "other"


def organisation_id_for(place: str, name: str) -> UUID:
    # Registering the same name again is the same organisation, never a second one.
    return uuid5(NAMESPACE_URL, f"liangdi:organisation:{place}:{' '.join(name.split())}")


class RegisteredOrganisation(Aggregate):
    withdrawn_on: date | None = None

    @staticmethod
    def create_id(*, host_place: str, name: str, **_: object) -> UUID:
        return organisation_id_for(host_place, name)

    @event("Registered")
    def __init__(
        self,
        *,
        host_place: str,
        name: str,
        kind: str,
        address: str,
        registered_on: date,
        registered_by: str,
    ) -> None:
        self.host_place, self.name, self.kind = host_place, name, kind
        self.address, self.registered_on = address, registered_on

    @classmethod
    def register(
        cls,
        *,
        host_place: str,
        name: str,
        kind: str,
        address: str,
        registered_on: date,
        today: date,
        registered_by: str,
    ) -> RegisteredOrganisation:
        if registered_on > today:
            raise RuleViolation("registration date is in the future", "organisation.future_date")
        return cls(
            host_place=host_place,
            name=" ".join(name.split()),
            kind=OrganisationKind(kind).value,
            address=address,
            registered_on=registered_on,
            registered_by=registered_by,
        )

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None

    def ensure_takes_cards_on(self, held_on: date) -> None:
        if held_on < self.registered_on:
            raise RuleViolation(
                f"{self.name} was registered in the district on {self.registered_on}",
                "organisation.not_yet_registered",
            )
        if self.withdrawn_on is not None and held_on > self.withdrawn_on:
            raise WrongState(
                f"{self.name} left the district's register on {self.withdrawn_on}",
                "organisation.withdrawn",
            )

    def withdraw(self, *, withdrawn_on: date, reason: str, withdrawn_by: str) -> None:
        if self.withdrawn_on is not None:
            raise WrongState("already withdrawn", "organisation.withdrawn")
        if withdrawn_on < self.registered_on:
            raise RuleViolation("withdrawn before registration", "organisation.bad_date")
        self._withdrawn(withdrawn_on=withdrawn_on, reason=reason, withdrawn_by=withdrawn_by)

    @event("Withdrawn")
    def _withdrawn(self, *, withdrawn_on: date, reason: str, withdrawn_by: str) -> None:
        self.withdrawn_on = withdrawn_on
