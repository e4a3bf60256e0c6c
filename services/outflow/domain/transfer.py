"""Return home, and transfer of membership out (组织关系转出) by introduction letter (介绍信).

A letter is ``issued`` with a validity period; the receiving organisation returns a receipt
(回执) and the letter is ``received``, closing the origin's record; a letter can be ``void`` or
replaced (``reissued``). ``expired`` is not stored: it is an issued letter past its validity.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from eventsourcing.domain import event

from services.outflow.domain.base import MemberBase
from services.outflow.domain.errors import Missing, RuleViolation, WrongState, not_in_future
from services.outflow.domain.status import AWAY, MemberStatus

ISSUED, RECEIVED, VOID, REISSUED, EXPIRED = "issued", "received", "void", "reissued", "expired"


def _org(name: str) -> str:
    # Spacing is how a name was typed, not which organisation it names.
    return " ".join(name.split())


def letter_state(letter: dict[str, Any], as_of: date) -> str:
    if letter["state"] == ISSUED and as_of > letter["valid_until"]:
        return EXPIRED
    return str(letter["state"])


class TransferOut(MemberBase):
    def return_home(self, *, returned_on: date, recorded_by: str, today: date) -> None:
        self._ensure(AWAY, "record a return home")
        if self.open_letter():
            raise WrongState(
                "an introduction letter is open; void it before recording a return",
                "transfer.letter_open",
            )
        not_in_future(returned_on, today, "return.future_date", "return date")
        if self.departed_on and returned_on < self.departed_on:
            raise RuleViolation("return before the departure", "return.before_departure")
        self._returned(on=returned_on, host_place=self.host_place, recorded_by=recorded_by)

    @event("Returned")
    def _returned(self, *, on: date, host_place: str | None, recorded_by: str) -> None:
        self.status = MemberStatus.RETURNED.value
        self.returned_on = on
        self._left_behind(self.host_place)
        self.host_place = None
        self.lost_reason, self.lost_on, self.suspended_on = None, None, None
        self._touch(on, "report")

    def open_letter(self) -> dict[str, Any] | None:
        return next((x for x in self.letters if x["state"] == ISSUED), None)

    def letter(self, letter_no: str) -> dict[str, Any]:
        for letter in self.letters:
            if letter["letter_no"] == letter_no:
                return letter
        raise Missing(f"the member has no letter {letter_no}", "transfer.letter_unknown")

    def issue_letter(
        self,
        *,
        receiving_organisation: str,
        issued_on: date,
        validity_days: int,
        recorded_by: str,
        today: date,
    ) -> str:
        self._ensure([MemberStatus.DEPARTED], "issue an introduction letter")
        if self.left_host_on is not None:  # cleared by each new departure
            # The host could never receive the member on it (nor return its receipt): the
            # letter would only be dead-lettered there (docs/flows.md, "Transfer of membership").
            raise WrongState(
                f"the host reported that the member left on {self.left_host_on}; record the "
                "return or the new place first",
                "transfer.member_left_host",
            )
        if self.open_letter():
            raise WrongState(
                "an introduction letter is already open; void or reissue it",
                "transfer.letter_open",
            )
        not_in_future(issued_on, today, "transfer.future_date", "issue date")
        if self.departed_on and issued_on < self.departed_on:
            raise RuleViolation("letter issued before the departure", "transfer.before_departure")
        if validity_days < 1:
            raise RuleViolation("validity must be at least one day", "transfer.validity")
        if not self.certificate_no:
            # Letters are numbered after the certificate (its number + JSnn), and a member whose
            # certificate was cancelled (注销) has none to carry.
            raise WrongState(
                "the member's activity certificate was cancelled: reissue one first",
                "certificate.none",
            )
        letter_no = f"{self.certificate_no}-JS{len(self.letters) + 1:02d}"
        self._letter_issued(
            letter_no=letter_no,
            receiving_organisation=receiving_organisation,
            issued_on=issued_on,
            valid_until=issued_on + timedelta(days=validity_days),
            host_place=self.host_place,
            recorded_by=recorded_by,
        )
        return letter_no

    @event("LetterIssued")
    def _letter_issued(
        self,
        *,
        letter_no: str,
        receiving_organisation: str,
        issued_on: date,
        valid_until: date,
        host_place: str | None,
        recorded_by: str,
    ) -> None:
        self.letters.append(
            {
                "letter_no": letter_no,
                "receiving_organisation": receiving_organisation,
                "issued_on": issued_on,
                "valid_until": valid_until,
                "state": ISSUED,
                "received_on": None,
                "void_reason": "",
                # The host place the letter went to: its receipt can only come from there.
                "host_place": host_place,
            }
        )

    def void_letter(self, *, letter_no: str, reason: str, recorded_by: str) -> None:
        self._ensure_open()
        if self.letter(letter_no)["state"] != ISSUED:
            raise WrongState(f"letter {letter_no} is not open", "transfer.letter_not_open")
        self._letter_voided(
            letter_no=letter_no,
            reason=reason,
            superseded=False,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    def reissue_letter(
        self, *, letter_no: str, issued_on: date, validity_days: int, recorded_by: str, today: date
    ) -> str:
        """Replaces an open (typically expired) letter by a new one to the same organisation."""
        self._ensure([MemberStatus.DEPARTED], "reissue an introduction letter")
        old = self.letter(letter_no)
        if old["state"] != ISSUED:
            raise WrongState(f"letter {letter_no} is not open", "transfer.letter_not_open")
        not_in_future(issued_on, today, "transfer.future_date", "issue date")
        self._letter_voided(
            letter_no=letter_no,
            reason="reissued",
            superseded=True,
            host_place=self.host_place,
            recorded_by=recorded_by,
        )
        return self.issue_letter(
            receiving_organisation=old["receiving_organisation"],
            issued_on=issued_on,
            validity_days=validity_days,
            recorded_by=recorded_by,
            today=today,
        )

    @event("LetterVoided")
    def _letter_voided(
        self,
        *,
        letter_no: str,
        reason: str,
        superseded: bool,
        host_place: str | None,
        recorded_by: str,
    ) -> None:
        letter = self.letter(letter_no)
        letter["state"] = REISSUED if superseded else VOID
        letter["void_reason"] = reason

    def receive_transfer(
        self,
        *,
        letter_no: str,
        received_on: date,
        receiving_organisation: str,
        recorded_by: str,
        today: date,
    ) -> None:
        """The receipt (回执): the host now owns the record; the origin's record closes.

        The receipt must come from the organisation and the host place the letter was issued
        to, and the member must still be there: otherwise the host could not take the record
        over and nobody would own it (docs/flows.md, "Transfer of membership").
        """
        self._ensure_open()
        letter = self.letter(letter_no)
        if letter["state"] != ISSUED:
            raise WrongState(
                f"letter {letter_no} is {letter['state']}, not open", "transfer.letter_not_open"
            )
        if _org(receiving_organisation) != _org(letter["receiving_organisation"]):
            raise RuleViolation(
                f"the receipt names {receiving_organisation!r}, but letter {letter_no} was issued "
                f"to {letter['receiving_organisation']!r}",
                "transfer.receipt_wrong_organisation",
            )
        went_to = letter.get("host_place")
        if went_to is not None and self.host_place != went_to:
            raise RuleViolation(
                f"letter {letter_no} went to host {went_to}, but the member is now hosted by "
                f"{self.host_place}",
                "transfer.receipt_wrong_host",
            )
        if self.left_host_on is not None:  # cleared by each new departure
            raise WrongState(
                f"the host reported that the member left on {self.left_host_on}; void the letter "
                "and record the return or the new place",
                "transfer.member_left_host",
            )
        not_in_future(received_on, today, "transfer.future_date", "receipt date")
        if received_on < letter["issued_on"]:
            raise RuleViolation("receipt before the letter was issued", "transfer.receipt_order")
        if received_on > letter["valid_until"]:
            raise RuleViolation(
                f"letter {letter_no} expired on {letter['valid_until']}; reissue it",
                "transfer.letter_expired",
            )
        self._transfer_received(
            letter_no=letter_no,
            received_on=received_on,
            receiving_organisation=letter["receiving_organisation"],
            host_place=self.host_place,
            recorded_by=recorded_by,
        )

    def take_host_receipt(
        self, *, letter_no: str, received_on: date, host_place: str, recorded_by: str
    ) -> None:
        """The host returned the receipt of a letter it was sent: it received the member and owns
        the record now, so the origin lets go even if the letter was voided, reissued or expired
        meanwhile (those crossed the receipt on the wire). Refusing would leave the member owned
        by two places (docs/flows.md, "Transfer of membership")."""
        letter = self.letter(letter_no)
        went_to = letter.get("host_place")
        if went_to is not None and went_to != host_place:
            raise RuleViolation(
                f"letter {letter_no} went to host {went_to}, not {host_place}",
                "transfer.receipt_wrong_host",
            )
        if received_on < letter["issued_on"]:
            raise RuleViolation("receipt before the letter was issued", "transfer.receipt_order")
        self._ensure_open()
        self._transfer_received(
            letter_no=letter_no,
            received_on=received_on,
            receiving_organisation=letter["receiving_organisation"],
            host_place=host_place,
            recorded_by=recorded_by,
        )

    def receipt_recorded(self, letter_no: str) -> bool:
        """Whether this letter's receipt is already on record (on paper, or from the host)."""
        return any(x["letter_no"] == letter_no and x["state"] == RECEIVED for x in self.letters)

    @event("TransferReceived")
    def _transfer_received(
        self,
        *,
        letter_no: str,
        received_on: date,
        receiving_organisation: str,
        host_place: str | None,
        recorded_by: str,
    ) -> None:
        letter = self.letter(letter_no)
        letter["state"], letter["received_on"] = RECEIVED, received_on
        self.status = MemberStatus.TRANSFERRED.value
        self._touch(received_on, "report")
