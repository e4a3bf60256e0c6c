"""Validation of the values liangdi records: resident IDs, phones, places, grades, money.

Pure Python (python-stdnum only), safe to use from domain code. Every failure raises
``ValidationFailed`` with a stable ``code``. ``shared.validation.bounds`` adds the bounded pydantic
types every request body, query parameter and wire fact is declared with.
"""

from __future__ import annotations

from .errors import ValidationFailed
from .grades import Grade, steps_apart
from .money import validate_amount_fen
from .names import mask_name
from .phone import mask_phone, validate_phone
from .places import (
    county_name,
    is_current_place,
    is_known_place,
    place_name,
    validate_county_code,
)
from .resident_id import (
    birth_date_of,
    check_character,
    make_resident_id,
    mask_resident_id,
    sex_of,
    validate_resident_id,
)

__all__ = [
    "Grade",
    "ValidationFailed",
    "birth_date_of",
    "check_character",
    "county_name",
    "is_current_place",
    "is_known_place",
    "make_resident_id",
    "sex_of",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "place_name",
    "steps_apart",
    "validate_amount_fen",
    "validate_county_code",
    "validate_phone",
    "validate_resident_id",
]
