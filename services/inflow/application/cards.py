"""The pioneer card (区域共管先锋卡): organisations registered in the district, cards issued to
members who reported, and attendance recorded by card number at any registered organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.inflow.application.organisation import OrganisationCommands
from services.inflow.domain.activity import activity_id_for
from services.inflow.domain.errors import NotFound, WrongState
from services.inflow.domain.member import HostStatus
from services.inflow.domain.pioneer_card import (
    CardRegister,
    PioneerCard,
    card_id_for,
    district_of,
    not_issued,
    register_id_for,
)
from services.inflow.domain.registered_organisations import RegisteredOrganisation
from shared.domain_errors import Conflict
from shared.validation.bounds import china_today

#: Two operators issuing at the same moment conflict on the register; the loser takes the next
#: number. Beyond this many lost races the request fails with 409 and is simply sent again.
ISSUE_RETRIES = 8


@dataclass(frozen=True)
class CheckedIn:
    activity_id: UUID
    member_id: UUID
    card_no: str
    organisation: str
    already_recorded: bool


class CardCommands(OrganisationCommands):
    # --- organisations registered in the district ---------------------------------------------

    def register_organisation(
        self,
        *,
        name: str,
        kind: str,
        address: str,
        registered_on: date | None,
        registered_by: str,
        today: date | None = None,
    ) -> UUID:
        today = today or china_today()
        organisation = RegisteredOrganisation.register(
            host_place=self.place,
            name=name,
            kind=kind,
            address=address,
            registered_on=registered_on or today,
            today=today,
            registered_by=registered_by,
        )
        if self._find_practice(organisation.id) is not None:
            raise Conflict(
                f"{organisation.name} is registered already", "organisation.already_registered"
            )
        self.save(organisation)
        return organisation.id

    def get_organisation(self, organisation_id: UUID) -> RegisteredOrganisation:
        found = self._find_practice(organisation_id)
        if not isinstance(found, RegisteredOrganisation):
            raise NotFound(
                f"no organisation {organisation_id} is registered in this district",
                "organisation.not_registered",
            )
        return found

    def withdraw_organisation(
        self, organisation_id: UUID, *, withdrawn_on: date, reason: str, withdrawn_by: str
    ) -> None:
        organisation = self.get_organisation(organisation_id)
        organisation.withdraw(withdrawn_on=withdrawn_on, reason=reason, withdrawn_by=withdrawn_by)
        self.save(organisation)

    # --- cards ---------------------------------------------------------------------------------

    def get_card(self, number: str) -> PioneerCard:
        district_of(number, self.place)
        found = self._find_practice(card_id_for(number))
        if not isinstance(found, PioneerCard):
            raise not_issued(number)
        return found

    def card_of(self, member_id: UUID) -> PioneerCard:
        register = self._find_practice(register_id_for(self.place))
        number = register.card_of(member_id) if isinstance(register, CardRegister) else None
        if number is None:
            raise NotFound(f"member {member_id} holds no valid card", "card.not_issued")
        return self.get_card(number)

    def issue_card(
        self, member_id: UUID, *, issued_by: str, issued_on: date | None = None
    ) -> PioneerCard:
        return self._issue(member_id, issued_by=issued_by, issued_on=issued_on or china_today())

    def revoke_card(
        self, number: str, *, reason: str, revoked_on: date | None, revoked_by: str
    ) -> PioneerCard:
        card = self.get_card(number)
        card.revoke(reason=reason, revoked_on=revoked_on or china_today(), revoked_by=revoked_by)
        register = self._register()
        register.release(card.number, card.member_id)
        self.save(card, register)
        return card

    def reissue_card(
        self, number: str, *, reason: str, reissued_on: date | None, issued_by: str
    ) -> PioneerCard:
        """A lost or damaged card: the old number revoked, a new one issued, in one write."""
        holder = UUID(self.get_card(number).member_id)
        on = reissued_on or china_today()
        return self._issue(
            holder, issued_by=issued_by, issued_on=on, replacing=number, reason=reason
        )

    def _issue(
        self,
        member_id: UUID,
        *,
        issued_by: str,
        issued_on: date,
        replacing: str | None = None,
        reason: str = "",
    ) -> PioneerCard:
        for remaining in range(ISSUE_RETRIES, -1, -1):
            old = self.get_card(replacing) if replacing else None
            member = self.get_member(member_id)
            register = self._register()
            if old is None:
                register.ensure_no_valid_card(member.id)
            number = register.next_number()
            card = PioneerCard.issue(
                number=number,
                host_place=self.place,
                member_id=member.id,
                member_status=str(member.status),
                issued_on=issued_on,
                replaces=replacing,
                issued_by=issued_by,
            )
            changed = [card, register]
            if old is not None:
                old.revoke(
                    reason=reason, revoked_on=issued_on, revoked_by=issued_by, replaced_by=number
                )
                register.release(old.number, old.member_id)
                changed.append(old)
            register.issue(number, str(member.id))
            try:
                self.save(*changed)
                return card
            except IntegrityError:
                if remaining == 0:
                    raise
        raise AssertionError("unreachable")

    def _register(self) -> CardRegister:
        found = self._find_practice(register_id_for(self.place))
        return found if isinstance(found, CardRegister) else CardRegister(self.place)

    # --- attendance by card --------------------------------------------------------------------

    def check_in(
        self,
        *,
        card_no: str,
        organisation_id: UUID,
        held_on: date,
        title: str,
        kind: str,
        recorded_by: str,
        today: date | None = None,
    ) -> CheckedIn:
        """One member's attendance, by the card a phone scanned, at a registered organisation.

        The same card at the same organisation, day and title again is the same attendance (a
        phone that sent twice): answered, not recorded twice.
        """
        card = self.get_card(card_no)
        card.ensure_valid()
        if held_on < card.issued_on:
            raise WrongState(
                f"card {card.number} was issued on {card.issued_on}, after {held_on}",
                "card.not_yet_issued",
            )
        organisation = self.get_organisation(organisation_id)
        organisation.ensure_takes_cards_on(held_on)
        member = self.get_member(UUID(card.member_id))
        if member.status != HostStatus.REPORTED:
            raise WrongState(
                f"the holder of card {card.number} is no longer hosted here ({member.status})",
                "card.holder_not_hosted",
            )
        activity_id = activity_id_for(self.place, organisation.name, held_on, title)
        activity = self._find_practice(activity_id)
        already = activity is not None and card.member_id in activity.attendees
        if not already:
            activity_id = self.record_activity(
                kind=kind,
                title=title,
                held_on=held_on,
                organiser=organisation.name,
                attendee_ids=[member.id],
                recorded_by=recorded_by,
                today=today,
            )
        return CheckedIn(activity_id, member.id, card.number, organisation.name, already)

    def _find_practice(self, aggregate_id: UUID) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
