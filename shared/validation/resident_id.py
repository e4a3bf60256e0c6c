"""Resident ID numbers (公民身份号码, GB 11643-1999).

18 characters: a 6-digit GB/T 2260 address code, the birth date as YYYYMMDD, a 3-digit
sequence number and an ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``).
"""

from __future__ import annotations

import datetime as dt
import re

from .errors import ValidationFailed
from .places import is_known_place

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # indexed by the weighted sum mod 11
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH = dt.date(1900, 1, 1)
# China has one time zone and no daylight saving: "today" is today in Beijing.
_CHINA = dt.timezone(dt.timedelta(hours=8))


def check_character(first17: str) -> str:
    """The MOD 11-2 check character (``"0"``-``"9"`` or ``"X"``) for 17 digits."""
    if not isinstance(first17, str) or not re.fullmatch(r"[0-9]{17}", first17):
        raise ValidationFailed("resident_id.format", "the first 17 characters must be digits")
    return _CHECK[sum(w * int(d) for w, d in zip(_WEIGHTS, first17, strict=True)) % 11]


def _shaped(value: object) -> str:
    """Strip, upper-case a final x, and check length and format."""
    if not isinstance(value, str):
        raise ValidationFailed("resident_id.format", "a resident ID number must be a string")
    number = value.strip().upper()
    if len(number) != 18:
        raise ValidationFailed("resident_id.length", "a resident ID number has 18 characters")
    if not _SHAPE.fullmatch(number):
        raise ValidationFailed(
            "resident_id.format", "a resident ID number is 17 digits then a digit or X"
        )
    return number


def birth_date_of(value: str) -> dt.date:
    """The birth date in characters 7-14 (checks shape and that it is a calendar date only)."""
    number = _shaped(value)
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            "resident_id.birth_date", f"{number[6:14]} (characters 7-14) is not a valid date"
        ) from None


def validate_resident_id(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised number (trimmed, final ``x`` upper-cased) or raise.

    Checked in this order, the first failure is raised: ``resident_id.length``,
    ``resident_id.format``, ``resident_id.check_character``, ``resident_id.birth_date``
    (a date between 1900-01-01 and ``today``, by default today in China),
    ``resident_id.address_code`` (known to GB/T 2260 in *any* period, not necessarily the
    birth year: codes were often assigned years after birth).
    """
    number = _shaped(value)
    if number[17] != check_character(number[:17]):
        raise ValidationFailed(
            "resident_id.check_character",
            "the last character does not match the ISO 7064 MOD 11-2 check character",
        )
    born = birth_date_of(number)
    today = today or dt.datetime.now(_CHINA).date()
    if not _EARLIEST_BIRTH <= born <= today:
        raise ValidationFailed(
            "resident_id.birth_date", f"birth date {born} is before 1900 or in the future"
        )
    if not is_known_place(number[:6]):
        raise ValidationFailed(
            "resident_id.address_code", f"{number[:6]} is not a GB/T 2260 address code"
        )
    return number


def mask_resident_id(value: str) -> str:
    """Keep the first 4 and last 4 characters, star the rest: ``"3713**********123X"``.

    Never raises: input too short to keep 8 characters is starred out completely.
    """
    text = str(value).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def sex_of(value: str) -> str:
    """``"male"`` or ``"female"``: the 17th character (the sequence) is odd for men (GB 11643)."""
    return "male" if int(_shaped(value)[16]) % 2 else "female"


def make_resident_id(address_code: str, birth: dt.date, sequence: int) -> str:
    """Build a number with a correct check character (for demos and tests).

    Only the shape of the inputs is checked: ``address_code`` 6 digits, ``sequence``
    0..999 (odd for men, even for women). Run the result through ``validate_resident_id``
    if the code and date must be valid too.
    """
    if not re.fullmatch(r"[0-9]{6}", address_code):
        raise ValueError(f"address code must be 6 digits: {address_code!r}")
    if isinstance(sequence, bool) or not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999: {sequence!r}")
    first17 = f"{address_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + check_character(first17)
