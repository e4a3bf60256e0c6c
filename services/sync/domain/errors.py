"""Errors of the reconciliation domain: the shared kinds (``shared.domain_errors``) with this
service's default codes. The HTTP edge maps each kind to its status."""

from __future__ import annotations

from shared import domain_errors as kinds
from shared.domain_errors import DomainError

__all__ = ["DomainError", "RuleViolation", "WrongState"]


class WrongState(kinds.WrongState):
    """The command does not fit the aggregate's current state."""

    code = "reconciliation.wrong_state"


class RuleViolation(kinds.RuleViolation):
    """A value breaks a rule."""

    code = "reconciliation.rule"
