"""Mainland China phone numbers: mobiles and landlines with their area code."""

from __future__ import annotations

import re

from .errors import ValidationFailed

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area codes: 010 and 02X have 3 digits, every other one 4 (0539 is Linyi); then 7-8 digits.
_LANDLINE = re.compile(r"(0(?:10|2[0-9]|[3-9][0-9]{2}))-?([0-9]{7,8})")


def validate_phone(value: object) -> str:
    """Return a normalised mobile (``"13812345678"``) or landline (``"0539-1234567"``).

    Surrounding whitespace and inner spaces are dropped; a landline may be written with or
    without the hyphen after its area code. Anything else raises ``phone.format``.
    """
    if isinstance(value, str):
        text = re.sub(r"\s", "", value)
        if _MOBILE.fullmatch(text):
            return text
        landline = _LANDLINE.fullmatch(text)
        if landline:
            return f"{landline[1]}-{landline[2]}"
    raise ValidationFailed(
        "phone.format",
        "a phone number is a mainland mobile (1[3-9] + 9 digits) "
        "or a landline with its area code (0539-1234567)",
    )


def mask_phone(value: object) -> str:
    """``"138****5678"`` for mobiles, ``"0539-***4567"`` for landlines.

    Never raises: something that is not a valid number is starred out completely.
    """
    try:
        number = validate_phone(value)
    except ValidationFailed:
        return "*" * len(str(value).strip())
    if "-" in number:
        area, local = number.split("-")
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return f"{number[:3]}****{number[-4:]}"
