"""Domain errors of the host district's record. Each carries a stable code and an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain.rule"
    status = 422

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class WrongState(DomainError):
    """The record is not in a state where this act makes sense (409)."""

    code = "member.wrong_state"
    status = 409


class RuleViolation(DomainError):
    """The request breaks a business rule (422)."""

    code = "rule.violated"


class IdempotencyKeyReused(DomainError):
    """A client's Idempotency-Key names an earlier request with other values (422)."""

    code = "idempotency.key_reused"


class OriginOwned(DomainError):
    """The host tried to change a fact the origin county owns (姓名, 身份号码, 活动证 ...)."""

    code = "member.origin_owned"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404
