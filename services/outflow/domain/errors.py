"""Domain errors of the origin county's record. Each carries a stable code for the API."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain.rule"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class WrongState(DomainError):
    """The operation does not fit the record's current state (HTTP 409)."""

    code = "member.wrong_state"


class RuleViolation(DomainError):
    """The values break a rule of the brief (HTTP 422)."""

    code = "rule.violated"


def not_in_future(day: object, today: object, code: str, what: str) -> None:
    if day > today:  # type: ignore[operator]
        raise RuleViolation(f"{what} ({day}) is in the future (today is {today})", code)


class Missing(DomainError):
    """Something the operation names does not exist in the record (HTTP 404)."""

    code = "not_found"
