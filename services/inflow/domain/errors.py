"""Domain errors of the host district's record. Each carries a stable code for the API."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain.rule"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class WrongState(DomainError):
    code = "member.wrong_state"


class RuleViolation(DomainError):
    code = "rule.violated"
