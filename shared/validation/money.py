"""Money is always an integer number of fen (分, 0.01 yuan)."""

from __future__ import annotations

from .errors import ValidationFailed


def validate_amount_fen(value: object) -> int:
    """Return ``value`` if it is a positive ``int`` amount in fen.

    Floats, strings, ``Decimal`` and ``bool`` are rejected (``amount.not_integer``),
    as are zero and negative amounts (``amount.not_positive``).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(
            "amount.not_integer", "an amount must be a whole number of fen (分), given as an int"
        )
    if value <= 0:
        raise ValidationFailed("amount.not_positive", "an amount in fen (分) must be positive")
    return int(value)
