"""The one exception every validator in this package raises."""

from __future__ import annotations


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
