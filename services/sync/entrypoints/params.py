"""The bounds of every value an operator sends to the sync service: out of range is a 422 that says
which bound, never a server error (a code of ASCII digits only, a sequence a JetStream stream and
a 64-bit column can hold, dates of the years the reconciliation covers, text without control
characters, NFC-normalised).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, Field

PLACE = r"^[0-9]{6}$"  # not \d: that also matches other scripts' digits
MAX_SEQUENCE = 2**63 - 1
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)

Direction = Annotated[Literal["o2h", "h2o"], Path(description="o2h origin→host, h2o host→origin")]
PlaceCode = Annotated[str, Path(pattern=PLACE, description="6-digit GB/T 2260 place code")]
PlaceFilter = Annotated[str | None, Query(pattern=PLACE, description="6-digit place code")]
BodyPlace = Annotated[str, Field(pattern=PLACE, examples=["371326"])]


def _day(value: date | None) -> date | None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be a date from {FIRST_DAY} to {LAST_DAY}")
    return value


Day = Annotated[date | None, AfterValidator(_day)]
AsOf = Annotated[
    Day, Query(description=f"the day the report is as of ({FIRST_DAY} to {LAST_DAY}); today")
]


def _text(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") and char not in "\n\t":
            raise ValueError(f"must not contain the control character U+{ord(char):04X}")
    return value


def _said(value: str) -> str:
    if len(value) < 3:
        raise ValueError("must say why in at least 3 characters")
    return value


def _written(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


# Free text an operator types: bounded, printable (line breaks and tabs allowed), NFC.
Reason = Annotated[
    str,
    Field(max_length=500, examples=["host 310115 migrating its database"]),
    AfterValidator(_text),
]
RequiredReason = Annotated[
    str,
    Field(max_length=500, examples=["test message from a drill"]),
    AfterValidator(_text),
    AfterValidator(_said),
]
Notes = Annotated[str, Field(max_length=2000), AfterValidator(_text), AfterValidator(_written)]
