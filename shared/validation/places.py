"""GB/T 2260 place codes, read from the table python-stdnum ships (``stdnum/cn/loc.dat``).

Each code in that table carries one or more periods, e.g. ``"[1994-2013]苍山县,[2014-]兰陵县"``:
``[1994-]`` means still in use, ``[-2010]`` abolished after 2010, no bracket means in use
for the whole span the table covers. A code is *current* when its last period has no end year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .errors import ValidationFailed

_PERIOD = re.compile(r"(?:\[(\d{4})?-(\d{4})?\])?(.+)")
_CODE = re.compile(r"[0-9]{6}")
# Names of grouping entries that are not places of their own ("districts under the city" ...).
_PLACEHOLDERS = frozenset(
    {"市辖区", "县", "省直辖县级行政单位", "省直辖行政单位", "自治区直辖县级行政单位"}
)


@dataclass(frozen=True)
class Period:
    """One name a code had, from ``start`` to ``end`` (``None``: open)."""

    start: int | None
    end: int | None
    name: str


@cache
def _table() -> dict[str, tuple[Period, ...]]:
    """Every 6-digit code in loc.dat mapped to its periods, oldest first."""
    from stdnum import numdb

    table: dict[str, tuple[Period, ...]] = {}
    for _, province, _, _, children in numdb.get("cn/loc").prefixes:
        for _, rest, _, props, _ in children:
            periods = []
            for part in props["county"].split(","):
                start, end, name = _PERIOD.fullmatch(part).groups()  # type: ignore[union-attr]
                periods.append(Period(_year(start), _year(end), name))
            table[province + rest] = tuple(periods)
    return table


def load_codes() -> None:
    """Reads the county-code table now (a service's start-up) rather than in the first request
    or fact that needs it, which it held up for 0.1-0.5 s."""
    _table()


def _year(text: str | None) -> int | None:
    return int(text) if text else None


def _periods(code: object) -> tuple[Period, ...]:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return ()
    return _table().get(code, ())


def _name_in(code: str, year: int | None) -> str | None:
    """The name ``code`` had in ``year`` (``None``: its latest name), else its latest name."""
    periods = _periods(code)
    if not periods:
        return None
    if year is not None:
        for p in periods:
            if (p.start is None or p.start <= year) and (p.end is None or year <= p.end):
                return p.name
    return periods[-1].name


def place_names() -> dict[str, str]:
    """Every code in the table with its latest name (province, prefecture and county levels)."""
    return {code: periods[-1].name for code, periods in _table().items()}


def is_known_place(code: object) -> bool:
    """True if ``code`` appears in the table in any period, abolished or not."""
    return bool(_periods(code))


def is_current_place(code: object) -> bool:
    """True if ``code`` is in use today (its last period is open-ended)."""
    periods = _periods(code)
    return bool(periods) and periods[-1].end is None


def county_name(code: str) -> str | None:
    """The code's own latest name, e.g. ``"平邑县"`` for 371326; ``None`` if unknown.

    For an abolished code this is the name it had when it was abolished.
    """
    return _name_in(code, None)


def place_name(code: str) -> str | None:
    """The full name province + prefecture + county, e.g. ``"山东省临沂市平邑县"``.

    Grouping entries such as 市辖区 are left out (310115 gives ``"上海市浦东新区"``).
    Prefecture and province names are those in force in the code's last year of use
    (today for current codes). Works for province- and prefecture-level codes too;
    ``None`` if the code is unknown.
    """
    periods = _periods(code)
    if not periods:
        return None
    year = periods[-1].end
    parts: list[str] = []
    for level in (code[:2] + "0000", code[:4] + "00", code):
        name = _name_in(level, year)
        if name and name not in _PLACEHOLDERS and (not parts or name != parts[-1]):
            parts.append(name)
    return "".join(parts) or None


def validate_county_code(code: str) -> str:
    """Return ``code`` if it is a current county-level GB/T 2260 code, for new records.

    Codes: ``place.format`` (not 6 digits), ``place.not_county`` (ends in 00, or a
    市辖区 grouping entry), ``place.unknown`` (never in the table), ``place.abolished``.
    """
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValidationFailed("place.format", "a GB/T 2260 place code is exactly 6 digits")
    if code.endswith("00") or county_name(code) in _PLACEHOLDERS:
        raise ValidationFailed(
            "place.not_county", f"{code} is a province or prefecture code, not a county-level one"
        )
    if not is_known_place(code):
        raise ValidationFailed("place.unknown", f"{code} is not a GB/T 2260 place code")
    if not is_current_place(code):
        raise ValidationFailed(
            "place.abolished",
            f"{code} ({county_name(code)}) has been abolished; new records need a current code",
        )
    return code
