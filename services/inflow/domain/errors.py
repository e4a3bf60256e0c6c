"""Domain errors of the host district's record: the shared kinds (``shared.domain_errors``) under
the names this service has always used. The HTTP edge maps each kind to its status."""

from __future__ import annotations

from shared import domain_errors as kinds
from shared.domain_errors import DomainError, IdempotencyKeyReused, NotFound, RuleViolation

__all__ = [
    "DomainError",
    "IdempotencyKeyReused",
    "NotFound",
    "OriginOwned",
    "RuleViolation",
    "WrongState",
]


class WrongState(kinds.WrongState):
    """The member's record is not in a state where this act makes sense."""

    code = "member.wrong_state"


class OriginOwned(kinds.OwnedElsewhere):
    """The host tried to change a fact the origin county owns (姓名, 身份号码, 活动证 ...)."""

    code = "member.origin_owned"
