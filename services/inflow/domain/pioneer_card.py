"""The pioneer card (区域共管先锋卡) of the Puyuan model: one card, any organisation nearby.

The host district issues a card to each member who has reported here. Any party organisation
registered in the district records the member's attendance by the card's number, so a member
who lives far from their own branch still takes part, and each attendance counts at the origin
as contact and as evidence for the year's evaluation, like any registered activity.

Numbers are the district's, without gaps: ``310115-XF-000001`` (XF: 先锋). A district knows only
its own cards; another district's number is refused as foreign, never looked up. A lost card is
revoked and a new number issued: the old number is refused from then on, so a found card cannot
be used by someone else.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inflow.domain.errors import NotFound, RuleViolation, WrongState

#: The district code (GB/T 2260), then the card's place in the district's register.
CARD_NUMBER = re.compile(r"^(?P<place>[0-9]{6})-XF-(?P<sequence>[0-9]{6})$")
CARD_PATTERN = CARD_NUMBER.pattern


class CardState(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"  # lost, damaged, or the holder left: the number is refused from then on


class RevocationReason(StrEnum):
    LOST = "lost"  # 遗失
    DAMAGED = "damaged"  # 损坏
    LEFT = "left"  # the holder left the district
    OTHER = "other"


def card_id_for(number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:pioneer-card:{number}")


def register_id_for(place: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:pioneer-card-register:{place}")


def district_of(number: str, here: str) -> str:
    """The district a card number names, once it is known to be this district's own.

    A number of another district is refused with its own reason: the member holds a card of
    the place they used to live in (or were given by mistake) and should be told so.
    """
    match = CARD_NUMBER.match(number)
    if match is None:
        raise RuleViolation(
            "not a pioneer card number (expected 6-digit district code, XF, 6 digits)",
            "card.malformed",
        )
    if match["place"] != here:
        raise RuleViolation(
            f"card {number} was issued by district {match['place']}, not {here}: it is not "
            "valid here; the member asks this district for its own card once reported",
            "card.foreign",
        )
    return match["place"]


class CardRegister(Aggregate):
    """The district's counter and who holds which valid card. Two issues racing conflict on its
    version; one retries with the next number."""

    @staticmethod
    def create_id(place: str) -> UUID:
        return register_id_for(place)

    @event("Opened")
    def __init__(self, place: str) -> None:
        self.place = place
        self.issued = 0
        self.holders: dict[str, str] = {}  # member record id -> valid card number

    def next_number(self) -> str:
        return f"{self.place}-XF-{self.issued + 1:06d}"

    def card_of(self, member_id: UUID) -> str | None:
        return self.holders.get(str(member_id))

    def ensure_no_valid_card(self, member_id: UUID) -> None:
        held = self.card_of(member_id)
        if held is not None:
            raise WrongState(
                f"the member holds card {held}: a lost card is revoked and reissued",
                "card.already_issued",
            )

    @event("Issued")
    def issue(self, number: str, member_id: str) -> None:
        self.issued += 1
        self.holders[member_id] = number

    @event("Released")
    def release(self, number: str, member_id: str) -> None:
        if self.holders.get(member_id) == number:
            del self.holders[member_id]


class PioneerCard(Aggregate):
    revoked_on: date | None = None
    revocation_reason: str = ""
    replaced_by: str | None = None

    @staticmethod
    def create_id(*, number: str, **_: object) -> UUID:
        return card_id_for(number)

    @event("Issued")
    def __init__(
        self,
        *,
        number: str,
        host_place: str,
        member_id: str,
        issued_on: date,
        replaces: str | None,
        issued_by: str,
    ) -> None:
        self.number, self.host_place, self.member_id = number, host_place, member_id
        self.issued_on, self.replaces = issued_on, replaces
        self.state = CardState.VALID.value

    @classmethod
    def issue(
        cls,
        *,
        number: str,
        host_place: str,
        member_id: UUID,
        member_status: str,
        issued_on: date,
        replaces: str | None = None,
        issued_by: str,
    ) -> PioneerCard:
        # Only a member who reported here (报到) and has not left is a member of the district.
        if member_status != "reported":
            raise WrongState(
                f"a card is issued to a member who reported here (status {member_status})",
                "card.member_not_reported",
            )
        return cls(
            number=number,
            host_place=host_place,
            member_id=str(member_id),
            issued_on=issued_on,
            replaces=replaces,
            issued_by=issued_by,
        )

    def ensure_valid(self) -> None:
        if self.state == CardState.REVOKED:
            replaced = "; a new card was issued" if self.replaced_by else ""
            raise WrongState(
                f"card {self.number} was revoked on {self.revoked_on} "
                f"({self.revocation_reason}){replaced}: it is refused",
                "card.revoked",
            )

    def revoke(
        self, *, reason: str, revoked_on: date, revoked_by: str, replaced_by: str | None = None
    ) -> None:
        self.ensure_valid()
        if revoked_on < self.issued_on:
            raise RuleViolation(
                f"card {self.number} was issued on {self.issued_on}", "card.revoked_before_issue"
            )
        self._revoked(
            reason=RevocationReason(reason).value,
            revoked_on=revoked_on,
            revoked_by=revoked_by,
            replaced_by=replaced_by,
        )

    @event("Revoked")
    def _revoked(
        self, *, reason: str, revoked_on: date, revoked_by: str, replaced_by: str | None
    ) -> None:
        self.state = CardState.REVOKED.value
        self.revocation_reason, self.revoked_on, self.replaced_by = reason, revoked_on, replaced_by


def not_issued(number: str) -> NotFound:
    return NotFound(f"no card {number} was issued in this district", "card.not_found")
