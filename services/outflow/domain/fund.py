"""The county's hardship assistance fund (困难流动党员救助基金): a ledger that never goes below 0.

Design: money is reserved when an application is approved and paid out of the reservation after
the public notice. The available amount (balance minus reservations) is checked on approval, so
the fund can never promise more than it holds, and disbursement only moves reserved money.
Approvals and disbursements both write the fund aggregate: two racing for the last money conflict
on its version; the application retries the loser against the new state, where it fails cleanly.
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.outflow.domain.errors import RuleViolation, WrongState
from shared.validation import validate_amount_fen
from shared.validation.bounds import check_amount_ceiling, check_sum_fits


def fund_id_for(county: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"liangdi:assistance-fund:{county}")


class AssistanceFund(Aggregate):
    @staticmethod
    def create_id(county: str) -> UUID:
        return fund_id_for(county)

    @event("Opened")
    def __init__(self, county: str) -> None:
        self.county = county
        self.balance_fen = 0
        self.reserved: dict[str, int] = {}  # application id -> fen
        self.contributed_fen = 0
        self.paid_fen = 0

    @property
    def reserved_fen(self) -> int:
        return sum(self.reserved.values())

    @property
    def available_fen(self) -> int:
        return self.balance_fen - self.reserved_fen

    def contribute(
        self,
        *,
        amount_fen: int,
        contributor: str,
        received_on: date,
        recorded_by: str,
        ceiling: int | None = None,
    ) -> None:
        """``ceiling``: the configured most per transaction. The totals are 64-bit columns in
        every read model: a contribution that would pass them is refused, never stored."""
        amount = validate_amount_fen(amount_fen)
        if ceiling is not None:
            check_amount_ceiling(amount, ceiling)
        check_sum_fits(max(self.balance_fen, self.contributed_fen), amount, "the fund's total")
        self._contributed(
            amount_fen=amount,
            contributor=contributor,
            received_on=received_on,
            recorded_by=recorded_by,
        )

    @event("ContributionReceived")
    def _contributed(
        self, *, amount_fen: int, contributor: str, received_on: date, recorded_by: str
    ) -> None:
        self.balance_fen += amount_fen
        self.contributed_fen += amount_fen

    def reserve(self, *, application_id: UUID, amount_fen: int, recorded_by: str) -> None:
        if str(application_id) in self.reserved:
            raise WrongState("already reserved for this application", "fund.already_reserved")
        if amount_fen > self.available_fen:
            raise RuleViolation(
                f"the fund has {self.available_fen} fen available; {amount_fen} requested",
                "fund.insufficient",
            )
        self._reserved(
            application_id=application_id, amount_fen=amount_fen, recorded_by=recorded_by
        )

    @event("AmountReserved")
    def _reserved(self, *, application_id: UUID, amount_fen: int, recorded_by: str) -> None:
        self.reserved[str(application_id)] = amount_fen

    def release(self, *, application_id: UUID, recorded_by: str) -> None:
        if str(application_id) in self.reserved:
            self._released(application_id=application_id, recorded_by=recorded_by)

    @event("ReservationReleased")
    def _released(self, *, application_id: UUID, recorded_by: str) -> None:
        self.reserved.pop(str(application_id), None)

    def disburse(self, *, application_id: UUID, paid_on: date, recorded_by: str) -> int:
        amount = self.reserved.get(str(application_id))
        if amount is None:
            raise WrongState("nothing is reserved for this application", "fund.not_reserved")
        if amount > self.balance_fen:  # cannot happen while reservations are kept; guard anyway
            raise RuleViolation("the fund cannot go below zero", "fund.insufficient")
        self._disbursed(
            application_id=application_id,
            amount_fen=amount,
            paid_on=paid_on,
            recorded_by=recorded_by,
        )
        return amount

    @event("Disbursed")
    def _disbursed(
        self, *, application_id: UUID, amount_fen: int, paid_on: date, recorded_by: str
    ) -> None:
        self.reserved.pop(str(application_id), None)
        self.balance_fen -= amount_fen
        self.paid_fen += amount_fen
