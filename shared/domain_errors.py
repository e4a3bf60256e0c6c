"""The refusals a domain can give, shared by the three services.

Each error says what kind of refusal it is (its class) and carries a stable machine-readable
``code`` (``member.wrong_state``, ``assessment.not_divergent`` ...) and a human ``message``.
Nothing here knows about HTTP: the edge of each service (``shared.http.errors``) decides which
status a kind of refusal becomes, once for all three services.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; the kind is unspecified, so it reads as a broken rule."""

    code = "domain.rule"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class WrongState(DomainError):
    """The record is not in a state where this act makes sense (e.g. paying an unapproved
    application); the same act may succeed later, once the state has moved on."""

    code = "state.wrong"


class RuleViolation(DomainError):
    """The values break a rule (a date in the future, an amount above the ceiling ...)."""

    code = "rule.violated"


class NotFound(DomainError):
    """Something the command names does not exist in this place's record."""

    code = "not_found"


class OwnedElsewhere(DomainError):
    """The fact belongs to another place's record: only that place may change it (the origin
    county owns 姓名, 身份号码, the activity certificate; a host cannot edit them)."""

    code = "record.owned_elsewhere"


class Conflict(DomainError):
    """The command would duplicate what the record already holds (a member registered twice)."""

    code = "conflict"


class IdempotencyKeyReused(DomainError):
    """A client's Idempotency-Key names an earlier request with other values: applying it would
    silently drop one of the two requests, so it is refused."""

    code = "idempotency.key_reused"
