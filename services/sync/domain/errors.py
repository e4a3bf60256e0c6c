"""Errors of the reconciliation domain, each with a stable machine-readable code."""

from __future__ import annotations


class DomainError(Exception):
    code = "reconciliation.error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class WrongState(DomainError):
    """The command does not fit the aggregate's current state (HTTP 409)."""

    code = "reconciliation.wrong_state"


class RuleViolation(DomainError):
    """A value breaks a rule (HTTP 422)."""

    code = "reconciliation.rule"
