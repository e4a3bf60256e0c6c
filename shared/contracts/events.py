"""Wire events, by direction. Add a field: bump the version and register an upcaster."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.contracts.registry import WireEvent, wire_event

PLACE = Field(pattern=r"^\d{6}$")

# --- origin → host (o2h) ---------------------------------------------------------------------


@wire_event("member.departed", 1)
class MemberDeparted(WireEvent):
    """The origin recorded a departure to this host, with the activity certificate number."""

    member_id: str
    origin_place: str = PLACE
    host_place: str = PLACE
    name: str
    resident_id: str
    sex: str
    phone: str
    origin_branch: str
    employer: str
    host_address: str
    reason: str
    expected_months: int = Field(ge=1)
    departed_on: date
    certificate_no: str


# --- host → origin (h2o) ---------------------------------------------------------------------


@wire_event("member.reported", 1)
class MemberReported(WireEvent):
    """The member reported (报到) to the host."""

    member_id: str
    origin_place: str = PLACE
    host_place: str = PLACE
    reported_on: date
    certificate_no: str
