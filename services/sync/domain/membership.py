"""Two-way membership state: what the origin believes of a member, against what each host holds.

The origin says departed to X, returned, lost, suspended, restored, removed; a host holds the
member as expected (the departure reached it), reported (报到), left, or received (transfer
receipt, 回执). Introduction letters (介绍信) are tracked until their receipt. Where the two
sides' beliefs disagree, `mismatches()` names the disagreement, since when, from which date it
counts (deadlines are given, not read from settings) and the evidence key that explains it;
a member owned by no place or by two after a transfer is one too (`ownership.py`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.sync.domain.evidence import appended
from services.sync.domain.mismatches import Mismatch
from services.sync.domain.mismatches import candidate as _candidate
from services.sync.domain.ownership import owners, ownership_mismatches


def membership_pair_id(origin_place: str, member_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:pair:{origin_place}:{member_id}")


def unannounced_id(origin_place: str, host_place: str, host_record_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:unannounced:{origin_place}:{host_place}:{host_record_id}")


class MembershipPair(Aggregate):
    """One member of one origin, with each host's side (per origin and member)."""

    @staticmethod
    def create_id(origin_place: str, member_id: str, **_: object) -> UUID:
        return membership_pair_id(origin_place, member_id)

    @event("Opened")
    def __init__(self, *, origin_place: str, member_id: str) -> None:
        self.origin_place, self.member_id = origin_place, member_id
        self.origin_status = "unknown"
        self.origin_host: str | None = None
        self.origin_since: date | None = None
        self.hosts: dict[str, dict[str, Any]] = {}
        self.letters: dict[str, dict[str, Any]] = {}
        self.evidence: dict[str, list[dict[str, Any]]] = {}

    def _note(self, key: str, evidence: Any) -> None:
        self.evidence[key] = appended(self.evidence.get(key, []), evidence)

    def _host(self, host: str) -> dict[str, Any]:
        return self.hosts.setdefault(host, {"state": None, "expected_since": None})

    # --- the origin's side ---------------------------------------------------------------

    @event("OriginDeparted")
    def origin_departed(self, *, host_place: str, departed_on: date, evidence: Any) -> None:
        self.origin_status, self.origin_host, self.origin_since = (
            "departed",
            host_place,
            departed_on,
        )
        side = self._host(host_place)
        # A report or leaving at this host dated on/after this departure answers it already.
        later = side.get("reported_on") or side.get("left_on")
        if side["state"] is None or later is None or later < departed_on:
            side.update(state="expected", reported_on=None, left_on=None)
        side["expected_since"] = departed_on
        self._note(host_place, evidence)

    @event("OriginStatusChanged")
    def origin_status_changed(
        self, *, status: str, on: date, host_place: str, evidence: Any
    ) -> None:
        self.origin_status, self.origin_since = status, on
        if status == "departed":
            self.origin_host = host_place
        self._note(host_place, evidence)

    @event("MovedOn")
    def origin_moved_on(
        self, *, from_host: str, to_host: str, moved_on: date, evidence: Any
    ) -> None:
        """The origin moved the member on to another host (异地流动): the host left behind is
        done with them (the new host's departure fact names the new host)."""
        side = self._host(from_host)
        if side["state"] != "left":
            side.update(state="left", left_on=moved_on)
        self._note(from_host, evidence)

    @event("LetterIssued")
    def letter_issued(
        self, *, letter_no: str, host_place: str, issued_on: date, valid_until: date, evidence: Any
    ) -> None:
        letter = self.letters.setdefault(letter_no, {"state": "issued", "received_on": None})
        letter.update(host_place=host_place, issued_on=issued_on, valid_until=valid_until)
        self._note(f"letter:{letter_no}", evidence)

    @event("LetterVoided")
    def letter_voided(self, *, letter_no: str, evidence: Any) -> None:
        self.letters.setdefault(letter_no, {"received_on": None})["state"] = "voided"
        self._note(f"letter:{letter_no}", evidence)

    # --- a host's side -------------------------------------------------------------------

    @event("HostReported")
    def host_reported(self, *, host_place: str, reported_on: date, evidence: Any) -> None:
        self._host(host_place).update(state="reported", reported_on=reported_on)
        self._note(host_place, evidence)

    @event("HostReportingOverdue")
    def host_reporting_overdue(self, *, host_place: str, due_on: date, evidence: Any) -> None:
        self._host(host_place)["overdue_due_on"] = due_on
        self._note(host_place, evidence)

    @event("HostLeft")
    def host_left(self, *, host_place: str, left_on: date, evidence: Any) -> None:
        self._host(host_place).update(state="left", left_on=left_on)
        self._note(host_place, evidence)

    @event("ReceiptReturned")
    def receipt_returned(
        self, *, host_place: str, letter_no: str, received_on: date, evidence: Any
    ) -> None:
        letter = self.letters.setdefault(letter_no, {"host_place": host_place})
        letter.update(state="received", received_on=received_on)
        self._host(host_place).update(
            state="received", received_on=received_on, letter_no=letter_no
        )
        self._note(f"letter:{letter_no}", evidence)

    @event("ReceiptRecorded")
    def receipt_recorded(
        self, *, host_place: str, letter_no: str, received_on: date, evidence: Any
    ) -> None:
        """The origin closed its record on the receipt: from now on only the host owns it."""
        letter = self.letters.setdefault(letter_no, {"host_place": host_place})
        letter.update(state="received", received_on=received_on, origin_closed=True)
        self.origin_status, self.origin_host, self.origin_since = (
            "transferred",
            host_place,
            received_on,
        )
        self._note(f"letter:{letter_no}", evidence)

    def owners(self) -> list[str]:
        """The places that hold the member as their own, by what each side has said."""
        return owners(self.origin_place, self.origin_status, self.hosts)

    # --- the comparison ------------------------------------------------------------------

    def mismatches(self, *, reporting_deadline_days: int, receipt_due_days: int) -> list[dict]:
        """Every disagreement that holds now or will once its deadline passes (`due_on`)."""
        found: list[dict[str, Any]] = []
        host = self.origin_host
        if self.origin_status == "departed" and host and self.origin_since:
            side = self.hosts.get(host, {})
            if side.get("state") == "expected":
                due = self.origin_since + timedelta(days=reporting_deadline_days + 1)
                found.append(
                    _candidate(Mismatch.EXPECTED_NOT_REPORTED, host, self.origin_since, due, host)
                )
            left_on = side.get("left_on")
            if side.get("state") == "left" and left_on and left_on >= self.origin_since:
                found.append(
                    _candidate(Mismatch.LEFT_HOST_STILL_DEPARTED, host, left_on, left_on, host)
                )
        for place, side in self.hosts.items():
            if side.get("state") == "reported" and side.get("expected_since") is None:
                reported_on = side["reported_on"]
                found.append(
                    _candidate(
                        Mismatch.REPORTED_UNKNOWN_TO_ORIGIN,
                        place,
                        reported_on,
                        reported_on,
                        place,
                        "no departure to this host",
                    )
                )
        found.extend(self._ownership())
        for letter_no, letter in self.letters.items():
            if letter.get("state") != "issued":
                continue
            issued_on, valid_until = letter["issued_on"], letter["valid_until"]
            receipt_due = issued_on + timedelta(days=receipt_due_days + 1)
            expires = valid_until + timedelta(days=1)
            detail = "letter expired" if expires <= receipt_due else "receipt overdue"
            found.append(
                _candidate(
                    Mismatch.TRANSFER_LETTER_NOT_RECEIVED,
                    letter["host_place"],
                    issued_on,
                    min(receipt_due, expires),
                    f"letter:{letter_no}",
                    f"{detail} ({letter_no})",
                )
            )
        return found

    def _ownership(self) -> list[dict[str, Any]]:
        return ownership_mismatches(
            origin_place=self.origin_place,
            origin_status=self.origin_status,
            origin_host=self.origin_host,
            origin_since=self.origin_since,
            hosts=self.hosts,
            letters=self.letters,
        )


class UnannouncedArrival(Aggregate):
    """Someone reported at a host with no departure announcing them; the origin must confirm.

    The host's message carries personal data to identify the person; the exchange keeps none of
    it, only the host's record id.
    """

    @staticmethod
    def create_id(origin_place: str, host_place: str, host_record_id: str, **_: object) -> UUID:
        return unannounced_id(origin_place, host_place, host_record_id)

    @event("Reported")
    def __init__(
        self,
        *,
        origin_place: str,
        host_place: str,
        host_record_id: str,
        reported_on: date,
        evidence: Any,
    ) -> None:
        self.origin_place, self.host_place = origin_place, host_place
        self.host_record_id, self.reported_on = host_record_id, reported_on
        self.member_id: str | None = None
        self.evidence = appended([], evidence)

    @event("Confirmed")
    def confirm(self, *, member_id: str, evidence: Any) -> None:
        self.member_id = member_id
        self.evidence = appended(self.evidence, evidence)

    def mismatches(self) -> list[dict[str, Any]]:
        if self.member_id is not None:
            return []
        return [
            _candidate(
                Mismatch.REPORTED_UNKNOWN_TO_ORIGIN,
                self.host_place,
                self.reported_on,
                self.reported_on,
                "arrival",
                "arrived unannounced, not yet confirmed",
            )
        ]
