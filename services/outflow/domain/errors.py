"""Domain errors of the origin county's record: the shared kinds (``shared.domain_errors``) under
the names this service has always used. The HTTP edge maps each kind to its status."""

from __future__ import annotations

from shared import domain_errors as kinds
from shared.domain_errors import DomainError, IdempotencyKeyReused, RuleViolation

__all__ = [
    "DomainError",
    "IdempotencyKeyReused",
    "Missing",
    "RuleViolation",
    "WrongState",
    "not_in_future",
]


class WrongState(kinds.WrongState):
    """The operation does not fit the member's current state."""

    code = "member.wrong_state"


class Missing(kinds.NotFound):
    """Something the operation names does not exist in the record (a transfer letter ...)."""


def not_in_future(day: object, today: object, code: str, what: str) -> None:
    if day > today:  # type: ignore[operator]
        raise RuleViolation(f"{what} ({day}) is in the future (today is {today})", code)
