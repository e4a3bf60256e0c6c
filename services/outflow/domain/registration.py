"""Entering a member into the information base (流动党员信息库): the record must agree with the
resident ID number (GB 11643), and a member is an adult.

The number carries the birth date (characters 7-14) and the sex (the 17th character: odd for
men, even for women); a record that contradicts its own number is a typing error to correct
before it is kept, not a fact to pass on to the host. Members join at 18 or older.
"""

from __future__ import annotations

from datetime import date

from services.outflow.domain.errors import RuleViolation
from shared.validation import birth_date_of, sex_of

ADULT_AGE = 18


def check_record_against_id(resident_id: str, sex: str, today: date) -> None:
    from_number = sex_of(resident_id)
    if sex != from_number:
        raise RuleViolation(
            f"sex {sex!r} contradicts the resident ID number, whose 17th character says "
            f"{from_number!r}",
            "member.sex_mismatch",
        )
    born = birth_date_of(resident_id)
    adult_on = _birthday(born, ADULT_AGE)
    if adult_on > today:
        raise RuleViolation(
            f"born on {born} (from the resident ID number): a member is at least {ADULT_AGE} "
            f"years old, which is on {adult_on}",
            "member.under_age",
        )


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February: the birthday is 1 March in common years
        return date(born.year + years, 3, 1)
