"""Bounded value types for every field that enters a place: HTTP bodies, query and path
parameters, and the wire facts another place sends.

A value one of these types accepts can be stored: in a PostgreSQL ``text``/``varchar(n)``
(no NUL, no lone surrogate, at most n characters), a ``BIGINT``/``INTEGER`` or a ``date`` column,
in SQLite, and it survives the date arithmetic of deadlines. A value that cannot be held never
gets as far as an event: one stored event that a read model cannot hold stops that read model.

Use the factories in request schemas and wire models alike (``Text(200)``, ``Code(40)``,
``Day``, ``AmountFen``...), so a new field cannot forget its bound. Failures carry a stable
error type (``text.control_character``, ``date.out_of_range``...) and a message naming the rule;
they never echo the value (it may be personal data).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt
from pydantic_core import PydanticCustomError

from .errors import ValidationFailed
from .resident_id import birth_date_of

#: The earliest day any record may name (no member was born before it).
EARLIEST_DAY = date(1900, 1, 1)
#: Dates that are recorded may lie at most this far ahead (planned dates, deadlines).
HORIZON = timedelta(days=366)
#: Days in queries (``as_of``) are read, never stored: a wide range that still leaves room for
#: the deadline arithmetic done on them (``as_of - 2 years``, ``+ 183 days``).
LATEST_QUERY_DAY = date(2199, 12, 31)
#: The largest value of a signed 64-bit column (PostgreSQL BIGINT, SQLite INTEGER).
INT64_MAX = 2**63 - 1
#: The largest amount any single field may carry: integers up to 2**53 stay exact in JSON for
#: every client (JavaScript numbers are doubles). The configurable ceiling per transaction
#: (``LIANGDI_MAX_AMOUNT_FEN``) lies below it and is checked where the settings are known.
MAX_EXACT_FEN = 2**53 - 1
#: Default ceiling per transaction: 1,000,000 yuan.
DEFAULT_MAX_AMOUNT_FEN = 100_000_000
#: Counts of people or events (PostgreSQL INTEGER is 32-bit; no list comes near this).
MAX_COUNT = 1_000_000

# China has one time zone: "today" is today in Beijing, as for resident ID birth dates.
_CHINA = timezone(timedelta(hours=8))
# Line and paragraph separators end a line as surely as \n does.
_LINE_BREAKS = frozenset("\u2028\u2029")


def china_today() -> date:
    return datetime.now(_CHINA).date()


# --- text ---------------------------------------------------------------------------------


def clean_text(value: str, *, max_len: int, min_len: int = 1, multiline: bool = False) -> str:
    """NFC-normalised ``value``, or ``PydanticCustomError`` naming the rule it breaks.

    Refused: control characters (Unicode Cc: NUL, ESC, DEL...; in multi-line text \\n and \\t
    are allowed and \\r\\n becomes \\n), lone surrogates (Cs: not encodable as UTF-8), line
    separators in single-line text, blank text where some is required, and text longer than
    ``max_len`` characters once normalised.
    """
    text = unicodedata.normalize("NFC", value)
    if multiline:
        text = text.replace("\r\n", "\n")
    for position, char in enumerate(text, start=1):
        category = unicodedata.category(char)
        if multiline and char in "\n\t":
            continue
        if category == "Cs":
            raise PydanticCustomError(
                "text.surrogate",
                "contains a lone surrogate (U+{code}) at character {position}; not valid Unicode",
                {"code": f"{ord(char):04X}", "position": position},
            )
        if category == "Cc" or char in _LINE_BREAKS:
            allowed = "only \\n and \\t are allowed" if multiline else "one line of text"
            raise PydanticCustomError(
                "text.control_character",
                "contains the control character U+{code} at character {position} ({allowed})",
                {"code": f"{ord(char):04X}", "position": position, "allowed": allowed},
            )
    if len(text) > max_len:
        raise PydanticCustomError(
            "text.too_long",
            "is {length} characters long; at most {max_len} are allowed",
            {"length": len(text), "max_len": max_len},
        )
    if min_len and len(text.strip()) < min_len:
        raise PydanticCustomError(
            "text.blank", "must not be blank (at least {min_len} character)", {"min_len": min_len}
        )
    return text


def Text(max_len: int, *, min_len: int = 1, multiline: bool = False) -> Any:  # noqa: N802
    """A string of at most ``max_len`` characters, without control characters, NFC-normalised.

    ``min_len=0`` allows the empty string (optional free text).
    """
    check = partial(clean_text, max_len=max_len, min_len=min_len, multiline=multiline)
    # The core bound refuses a megabyte before normalising it; the validator checks again after.
    return Annotated[str, Field(min_length=min_len, max_length=max_len), AfterValidator(check)]


#: A person's name (as the read models hold it: 100 characters).
Name = Text(100)


def Code(max_len: int, *, allow_empty: bool = False) -> Any:  # noqa: N802
    """A machine identifier (member id, certificate or letter number, record ids): ASCII
    letters, digits and ``. _ : / -``, at most ``max_len`` characters."""
    body = r"[A-Za-z0-9][A-Za-z0-9._:/-]*"
    pattern = f"^(?:{body})?$" if allow_empty else f"^{body}$"
    return Annotated[
        str, Field(min_length=0 if allow_empty else 1, max_length=max_len, pattern=pattern)
    ]


#: A GB/T 2260 place code: six ASCII digits (``\\d`` would also match other scripts' digits).
PlaceCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["371326"])]


# --- numbers ------------------------------------------------------------------------------

#: Money: a positive whole number of fen (分), never a float, bool or string.
AmountFen = Annotated[
    StrictInt, Field(gt=0, le=MAX_EXACT_FEN, description="integer fen (分), positive")
]
#: An assessment year (民主评议).
Year = Annotated[int, Field(ge=2000, le=2100)]


def Count(maximum: int = MAX_COUNT, *, minimum: int = 0) -> Any:  # noqa: N802
    """A whole number of things, bounded on both sides."""
    return Annotated[int, Field(ge=minimum, le=maximum)]


def check_amount_ceiling(amount_fen: int, ceiling: int, field: str = "amount_fen") -> int:
    """The configurable ceiling per transaction (``LIANGDI_MAX_AMOUNT_FEN``): a domain rule."""
    if amount_fen > ceiling:
        raise ValidationFailed(
            "amount.above_ceiling",
            f"{field}: {amount_fen} fen is above the ceiling per transaction "
            f"({ceiling} fen, setting LIANGDI_MAX_AMOUNT_FEN)",
        )
    return amount_fen


def check_sum_fits(total: int, addition: int, what: str) -> None:
    """A running total must stay within a signed 64-bit column."""
    if total + addition > INT64_MAX:
        raise ValidationFailed(
            "amount.total_overflow",
            f"{what} would pass {INT64_MAX} fen, the most a 64-bit column can hold",
        )


# --- dates --------------------------------------------------------------------------------


def _day_between(value: date, *, latest: date | None) -> date:
    last = latest or china_today() + HORIZON
    if not EARLIEST_DAY <= value <= last:
        raise PydanticCustomError(
            "date.out_of_range",
            "{day} is outside the supported range {first} .. {last}",
            {"day": value.isoformat(), "first": EARLIEST_DAY.isoformat(), "last": last.isoformat()},
        )
    return value


#: A recorded day: from 1900-01-01 to a year ahead. Rules such as "no departures in the future"
#: are the domain's, with their own codes (``departure.future_date``).
Day = Annotated[date, AfterValidator(partial(_day_between, latest=None))]
#: A day a query is judged on (read, not stored): 1900-01-01 .. 2199-12-31.
QueryDay = Annotated[date, AfterValidator(partial(_day_between, latest=LATEST_QUERY_DAY))]


def _moment_between(value: datetime) -> datetime:
    _day_between(value.date(), latest=LATEST_QUERY_DAY)
    return value


#: An instant a query is judged on.
QueryMoment = Annotated[datetime, AfterValidator(_moment_between)]


def not_before_birth(day: date | None, resident_id: str | None, field: str) -> None:
    """``day`` may not precede the birth date in ``resident_id`` (when both are at hand and the
    number is well-formed; a malformed number is refused by its own rule elsewhere)."""
    if day is None or not resident_id:
        return
    try:
        born = birth_date_of(resident_id)
    except ValidationFailed:
        return
    if day < born:
        raise PydanticCustomError(
            "date.before_birth",
            "{field} ({day}) is before the birth date in the resident ID number",
            {"field": field, "day": day.isoformat()},
        )
