"""The states of a member's record at the host, and the record's id (see `member.py`)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5


class HostStatus(StrEnum):
    EXPECTED = "expected"
    REPORTED = "reported"
    LEFT = "left"
    RECEIVED = "received"  # membership transferred in: the host now owns the record


PRESENT = (HostStatus.REPORTED, HostStatus.RECEIVED)
#: What the origin says that means the member is gone from here: returned home, removed, or moved
#: on to another host (异地流动).
GONE_BY_ORIGIN = ("returned", "removed", "moved")


@lru_cache(maxsize=16384)  # asked several times for each fact the host imports
def hosted_member_id(host_place: str, origin_member_id: str) -> UUID:
    """The host's record of one origin member; the same departure never creates two."""
    return uuid5(NAMESPACE_URL, f"liangdi:hosted:{host_place}:{origin_member_id}")
