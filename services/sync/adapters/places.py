"""The places of the exchange, as the sync service knows them: the admin API acts on these only.

A place is known from the configuration (`LIANGDI_PLACES`, e.g. `origin:371326,host:310115`, and
the places `LIANGDI_TRUSTED_KEYS` names, `origin:371326=<key>`) and from the status every running
place publishes (`outflow.371326`, `inflow.310115`). A place named with its role may only be used
on that side of a link (an o2h link runs from an origin county to a host district); a bare code
may be used on either. An unknown place is refused before anything is written (docs/sync.md,
"Places"), so a typo or a fuzzer never leaves control keys for places that do not exist.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

ORIGIN_SIDE, HOST_SIDE = "outflow", "inflow"
ROLES = {"origin": ORIGIN_SIDE, "host": HOST_SIDE, ORIGIN_SIDE: ORIGIN_SIDE, HOST_SIDE: HOST_SIDE}
SIDE_NAMES = {ORIGIN_SIDE: "an origin county", HOST_SIDE: "a host district"}
CODE = re.compile(r"[0-9]{6}")


class UnknownPlace(LookupError):
    def __init__(self, message: str, status: int = 404):
        super().__init__(message)
        self.message, self.status = message, status


def parse_places(*configured: str) -> dict[str, set[str]]:
    """Place → the sides it may stand on (empty: either) from `[role:]place[=key]` lists."""
    places: dict[str, set[str]] = {}
    for text in configured:
        for item in text.split(","):
            name = item.partition("=")[0].strip()
            role, _, code = name.rpartition(":")
            if not CODE.fullmatch(code):
                continue
            sides = places.setdefault(code, set())
            if role.strip().lower() in ROLES:
                sides.add(ROLES[role.strip().lower()])
    return places


def sides_of(direction: str) -> tuple[str, str]:
    """(the sending side, the receiving side) of a direction."""
    return (ORIGIN_SIDE, HOST_SIDE) if direction == "o2h" else (HOST_SIDE, ORIGIN_SIDE)


class Places:
    """Configured places plus those reporting status; `lookup` asks NATS for a status just now."""

    def __init__(
        self,
        configured: dict[str, set[str]],
        statuses: Callable[[], dict[str, dict[str, Any]]],
        lookup: Callable[[str, str], Awaitable[bool | None]] | None = None,
    ):
        self.configured, self._statuses, self._lookup = configured, statuses, lookup

    def known(self) -> dict[str, set[str]]:
        places = {code: set(sides) for code, sides in self.configured.items()}
        for status in list(self._statuses().values()):
            code, side = status.get("place"), status.get("service")
            if isinstance(code, str) and side in SIDE_NAMES:
                places.setdefault(code, set()).add(side)
        return places

    def on_side(self, side: str) -> list[str]:
        return sorted(code for code, sides in self.known().items() if not sides or side in sides)

    async def require(self, place: str, side: str) -> None:
        """Raises UnknownPlace unless `place` is in the topology and may stand on `side`."""
        sides = self.known().get(place)
        unknown = sides is None or (sides and side not in sides)
        # A place that started a moment ago may not be in the last status poll yet.
        if unknown and self._lookup is not None:
            found = await self._lookup(side, place)
            if found:
                return
            if found is None:
                raise UnknownPlace(
                    f"cannot tell whether {place} is in the topology: the sync service cannot "
                    "read the places' status (NATS); nothing was changed",
                    503,
                )
        if sides is None:
            raise UnknownPlace(
                f"place {place} is not in the exchange's topology (LIANGDI_PLACES, "
                "LIANGDI_TRUSTED_KEYS, or a place reporting its status): nothing was changed"
            )
        if sides and side not in sides:
            names = " and ".join(sorted(SIDE_NAMES[s] for s in sides))
            raise UnknownPlace(
                f"place {place} is {names} in the topology, not {SIDE_NAMES[side]}: "
                "no such link; nothing was changed"
            )

    async def require_link(self, direction: str, from_place: str, to_place: str) -> None:
        sender, receiver = sides_of(direction)
        await self.require(from_place, sender)
        await self.require(to_place, receiver)
