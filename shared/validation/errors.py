"""The one exception every validator in this package raises, and how a pydantic refusal is told."""

from __future__ import annotations

from pydantic import ValidationError


class ValidationFailed(ValueError):
    """A value broke a rule.

    ``code`` is stable and machine-readable (``"resident_id.check_character"``);
    ``message`` is human text naming the rule that was broken.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


def rules_broken(exc: ValidationError, most: int = 20) -> str:
    """Which fields broke which rules, never the values (they may be personal data), in at most
    1,000 characters: for a log line, a dead letter or a refusal kept beside a place's row."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
        for e in exc.errors(include_input=False)[:most]
    )[:1000]
