"""Queries over history: a member's timeline, and the member as the record stood on a date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID

from services.outflow.application.core import MemberNotFound, OutflowCore
from services.outflow.domain.member import MobileMember
from shared.validation import mask_phone, mask_resident_id

# China has one time zone: "on date X" means up to the end of X in Beijing.
CHINA = timezone(timedelta(hours=8))
_SKIP = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def mask_address(value: str) -> str:
    text = str(value)
    return text[:6] + "*" * max(len(text) - 6, 0)


def masked(data: dict[str, Any]) -> dict[str, Any]:
    """Event data without personal data in clear: ID number, phone and addresses masked."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "resident_id":
            out[key] = mask_resident_id(value)
        elif key == "phone":
            out[key] = mask_phone(value)
        elif key in ("household_address", "host_address"):
            out[key] = mask_address(value)
        elif isinstance(value, dict):
            out[key] = masked(value)
        elif isinstance(value, UUID):
            out[key] = str(value)
        elif isinstance(value, date | datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def describe(event: Any) -> dict[str, Any]:
    data = {k: v for k, v in event.__dict__.items() if k not in _SKIP}
    recorded_by = data.pop("recorded_by", None)
    return {
        "stream": str(event.originator_id),
        "version": event.originator_version,
        "type": type(event).__qualname__.rsplit(".", 1)[-1],
        "at": event.timestamp,
        "by": recorded_by or _implicit_author(data),
        "data": masked(data),
    }


def _implicit_author(data: dict[str, Any]) -> str:
    host = data.get("host_place")
    return f"host:{host}" if host else "system"


class HistoryQueries(OutflowCore):
    def timeline(self, member_id: UUID, related: Iterable[UUID] = ()) -> list[dict[str, Any]]:
        """Every event of the member and of their assessments and applications, oldest first."""
        own = list(self.events.get(member_id))
        if not own:
            raise MemberNotFound(member_id)
        entries = [describe(e) for e in own]
        for stream in related:
            entries.extend(describe(e) for e in self.events.get(stream))
        entries.sort(key=lambda e: (e["at"], e["stream"], e["version"]))
        return entries

    def member_as_of(self, member_id: UUID, on: date | datetime) -> MobileMember:
        """What the record said at ``on`` (a day: its end, Beijing time): the version then."""
        if isinstance(on, datetime):
            until = on if on.tzinfo else on.replace(tzinfo=CHINA)
        else:
            until = datetime.combine(on, time.max, tzinfo=CHINA)
        for event in self.events.get(member_id, desc=True):
            if event.timestamp <= until:
                return self.get_member(member_id, as_of_version=event.originator_version)
        raise MemberNotFound(member_id)
