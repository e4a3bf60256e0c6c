"""Operator endpoints of the exchange: links, dead letters, pause / resume / replay, retries.

Reads are for sync admins and auditors; every action is for sync admins only, and is recorded
(who, when, why) beside what it acted on.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from nats.errors import Error as NatsError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.sync.adapters.control import ControlError
from services.sync.adapters.places import UnknownPlace
from services.sync.bootstrap import SyncRuntime
from services.sync.entrypoints.params import (
    MAX_SEQUENCE,
    PLACE,
    Direction,
    PlaceCode,
    PlaceFilter,
    Reason,
    RequiredReason,
)
from services.sync.entrypoints.responses import (
    DeadLetterDetail,
    DeadLetterPage,
    DeadLetterSummary,
    Discarded,
    LinksView,
    Paused,
    Replayed,
    Resumed,
    Retried,
    RetriedAll,
)
from shared.http.auth import allow
from shared.http.errors import ApiError
from shared.http.paging import Offset
from shared.security.tokens import Principal, Role

router = APIRouter(prefix="/admin", tags=["admin"])
receiving_side = {"o2h": "inflow", "h2o": "outflow"}.__getitem__
Operator = Annotated[Principal, Depends(allow(Role.SYNC_ADMIN, Role.AUDITOR))]
Admin = Annotated[Principal, Depends(allow(Role.SYNC_ADMIN))]


def runtime(request: Request) -> SyncRuntime:
    return request.app.state.runtime


Runtime = Annotated[SyncRuntime, Depends(runtime)]


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = ""


class DiscardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: RequiredReason


class Replay(BaseModel):
    """Replay into a paused receiver from a stream sequence (docs/sync.md, "Replay")."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"from_sequence": 1},
                {"from_sequence": 120, "allow_gap": True, "reason": "facts 1-119 were purged"},
            ]
        },
    )
    from_sequence: int = Field(
        ge=1, le=MAX_SEQUENCE, description="JetStream stream sequence to deliver from"
    )
    allow_gap: bool = Field(
        False,
        description="start after the receiver's acknowledged floor + 1 anyway: the facts in "
        "between are skipped, recorded as a gap and shown on the link until covered",
    )
    reason: Reason = ""

    @model_validator(mode="after")
    def _gap_needs_a_reason(self) -> Replay:
        if self.allow_gap and len(self.reason) < 3:
            raise ValueError("allow_gap skips facts on record: say why in `reason`")
        return self


class RetryFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Literal["o2h", "h2o"] | None = None
    from_place: str | None = Field(None, pattern=PLACE, examples=["371326"])
    to_place: str | None = Field(None, pattern=PLACE, examples=["310115"])


async def _act(coro: Any) -> Any:
    try:
        return await coro
    except ControlError as exc:
        raise ApiError(exc.code, exc.message, exc.status) from None
    except UnknownPlace as exc:
        code = "place.unknown" if exc.status == 404 else "nats.unavailable"
        raise ApiError(code, exc.message, exc.status) from None
    except (NatsError, TimeoutError) as exc:
        message = f"NATS did not answer ({type(exc).__name__}): the action may not have been done"
        raise ApiError("nats.unavailable", message, 503) from None


@router.get(
    "/links",
    summary="Every link by direction and place pair: state, positions, lag",
    response_model=LinksView,
)
def links(rt: Runtime, _: Operator) -> dict[str, Any]:
    known = rt.places.known()
    return {
        "links": rt.links(),
        "places": sorted(rt.observer.statuses),
        "topology": {code: sorted(sides) for code, sides in sorted(known.items())},
        "gaps": rt.gaps.open_gaps(),
    }


@router.post(
    "/links/{direction}/{from_place}/{to_place}/pause",
    summary="Pause one source link: its messages wait at the receiver",
    response_model=Paused,
)
async def pause_link(
    direction: Direction, from_place: PlaceCode, to_place: PlaceCode, body: PauseBody,
    rt: Runtime, who: Admin,
) -> dict[str, Any]:  # fmt: skip
    await _act(rt.places.require_link(direction, from_place, to_place))
    key = await _act(rt.controller.set_pause(direction, to_place, from_place, True))
    return {"paused": key, "by": who.subject, "reason": body.reason}


@router.post(
    "/links/{direction}/{from_place}/{to_place}/resume",
    summary="Resume one source link",
    response_model=Resumed,
)
async def resume_link(
    direction: Direction, from_place: PlaceCode, to_place: PlaceCode, rt: Runtime, who: Admin
) -> dict[str, Any]:
    await _act(rt.places.require_link(direction, from_place, to_place))
    key = await _act(rt.controller.set_pause(direction, to_place, from_place, False))
    return {"resumed": key, "by": who.subject}


@router.post(
    "/receivers/{direction}/{place}/pause",
    summary="Pause a receiver: every source flowing into the place waits",
    response_model=Paused,
)
async def pause_receiver(
    direction: Direction, place: PlaceCode, body: PauseBody, rt: Runtime, who: Admin
) -> dict[str, Any]:
    await _act(rt.places.require(place, receiving_side(direction)))
    key = await _act(rt.controller.set_pause(direction, place, None, True))
    return {"paused": key, "by": who.subject, "reason": body.reason}


@router.post(
    "/receivers/{direction}/{place}/resume",
    summary="Resume a paused receiver",
    response_model=Resumed,
)
async def resume_receiver(
    direction: Direction, place: PlaceCode, rt: Runtime, who: Admin
) -> dict[str, Any]:
    await _act(rt.places.require(place, receiving_side(direction)))
    key = await _act(rt.controller.set_pause(direction, place, None, False))
    return {"resumed": key, "by": who.subject}


@router.post(
    "/receivers/{direction}/{place}/replay",
    summary="Replay into a paused receiver from a stream sequence (refused if it would skip "
    "facts, unless allow_gap), then resume it",
    response_model=Replayed,
)
async def replay(
    direction: Direction, place: PlaceCode, body: Replay, rt: Runtime, who: Admin
) -> dict[str, Any]:
    await _act(rt.places.require(place, receiving_side(direction)))
    done = await _act(
        rt.controller.replay(
            direction, place, body.from_sequence, allow_gap=body.allow_gap, by=who.subject,
            reason=body.reason,
        )
    )  # fmt: skip
    return done | {"by": who.subject}


@router.get(
    "/dead-letters/summary",
    summary="Open dead letters per link, with the oldest age",
    response_model=DeadLetterSummary,
)
def dead_letter_summary(rt: Runtime, _: Operator) -> dict[str, Any]:
    return {"links": rt.deadletters.summary()}


@router.get(
    "/dead-letters",
    summary="Dead letters with reason and (masked) message, paginated",
    response_model=DeadLetterPage,
)
def dead_letters(
    rt: Runtime,
    _: Operator,
    state: Literal["open", "retried", "discarded"] | None = None,
    direction: Literal["o2h", "h2o"] | None = None,
    from_place: PlaceFilter = None,
    to_place: PlaceFilter = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    total, items = rt.deadletters.page(
        state=state,
        direction=direction,
        from_place=from_place,
        to_place=to_place,
        offset=offset,
        limit=limit,
    )
    return {"total": total, "offset": offset, "limit": limit, "items": items}


@router.get(
    "/dead-letters/{dead_letter_id}",
    summary="One dead letter and what was done to it",
    response_model=DeadLetterDetail,
)
def dead_letter(dead_letter_id: UUID, rt: Runtime, _: Operator) -> dict[str, Any]:
    letter = rt.deadletters.get(str(dead_letter_id))
    if letter is None:
        raise ApiError("dead_letter.not_found", f"no dead letter {dead_letter_id}", 404)
    letter.pop("raw")
    return letter | {"history": rt.deadletters.history(str(dead_letter_id))}


@router.post(
    "/dead-letters/{dead_letter_id}/retry",
    summary="Republish the original message to its subject (applied at most once)",
    response_model=Retried,
)
async def retry(dead_letter_id: UUID, rt: Runtime, who: Admin) -> dict[str, Any]:
    return await _act(rt.controller.retry(str(dead_letter_id), who.subject))


@router.post(
    "/dead-letters/retry",
    summary="Retry every open dead letter (optionally of a link)",
    response_model=RetriedAll,
)
async def retry_all(body: RetryFilter, rt: Runtime, who: Admin) -> dict[str, Any]:
    ids = await asyncio.to_thread(
        rt.deadletters.open_ids,
        direction=body.direction,
        from_place=body.from_place,
        to_place=body.to_place,
    )
    for dead_letter_id in ids:
        await _act(rt.controller.retry(dead_letter_id, who.subject))
    return {"retried": len(ids), "ids": ids}


@router.post(
    "/dead-letters/{dead_letter_id}/discard",
    summary="Discard a dead letter with a reason (kept, never deleted)",
    response_model=Discarded,
)
def discard(dead_letter_id: UUID, body: DiscardBody, rt: Runtime, who: Admin) -> dict[str, Any]:
    letter = rt.deadletters.get(str(dead_letter_id))
    if letter is None:
        raise ApiError("dead_letter.not_found", f"no dead letter {dead_letter_id}", 404)
    if letter["state"] == "discarded":
        raise ApiError("dead_letter.discarded", "already discarded", 409)
    rt.deadletters.discard(str(dead_letter_id), who.subject, body.reason)
    return {
        "id": str(dead_letter_id),
        "state": "discarded",
        "by": who.subject,
        "reason": body.reason,
    }
