"""A place's status as the sync service takes it from the status bucket.

Each place writes its own status every second (`PlaceAgent.status`), and the sync service builds
every link's row, the exchange's metrics and the places it knows from them. A status that is not
what a place writes (a bug, another version, a place that lies) must cost that place its row, not
the whole view: one status without its `service` once stopped the links view, the metrics and
readiness for good. So a status is checked where it enters, to the shape and bounds the views
rely on, and only what they read is kept; a refused one is left out, with its reason, and the
place's last good status ages until the place is shown as not reporting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.validation.bounds import PlaceCode
from shared.validation.errors import rules_broken

Count = Annotated[int, Field(ge=0, le=2**53 - 1)]  # exact in JSON and in a float
Moment = Annotated[float, Field(ge=0, le=1e11, allow_inf_nan=False)]  # seconds since 1970
Words = Annotated[str, Field(max_length=2000)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Health(_Part):
    errors: Count = 0
    last_error: Words | None = None
    last_error_at: Moment | None = None
    last_ok_at: Moment | None = None
    healthy: bool | None = None


class Relay(_Health):
    backlog: Count = 0
    per_destination: dict[PlaceCode, Count] = {}
    last_stream_seq: dict[PlaceCode, Count] = {}
    last_event_time: dict[PlaceCode, Moment | None] = {}


class SourceCounts(_Part):
    applied: Count = 0
    duplicate: Count = 0
    dead_letter: Count = 0
    parked: Count = 0
    parked_now: Count = 0
    last_stream_seq: Count = 0
    last_applied_at: Moment | None = None
    last_event_time: Moment | None = None


class Receiver(_Health):
    sources: dict[PlaceCode, SourceCounts] = {}
    paused: bool = False
    paused_sources: list[PlaceCode] = Field(default=[], max_length=10_000)


class PlaceStatus(_Part):
    service: Literal["outflow", "inflow"]
    place: PlaceCode
    at: Moment
    role: Literal["leader", "standby"] | None = None
    connected: bool | None = None
    link_error: Words | None = None
    instance: Words | None = None
    relay: Relay | None = None
    receiver: Receiver | None = None


class StatusRefused(ValueError):
    """A status the views cannot rely on; the message says which fields and rules, never values."""


def take_status(key: str, raw: bytes) -> dict[str, Any]:
    """The status stored under `key` (`<service>.<place>`), checked, as the views read it."""
    try:
        status = PlaceStatus.model_validate_json(raw)
    except ValidationError as exc:
        raise StatusRefused(rules_broken(exc, most=5)) from None
    if key != f"{status.service}.{status.place}":
        raise StatusRefused(f"it says {status.service}.{status.place}, under the key {key[:40]}")
    return status.model_dump()
