"""What every outflow router shares: roles, the runtime, idempotency keys."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from services.outflow.application import IdempotentRequest, OutflowApplication
from shared.http.auth import allow
from shared.http.errors import ApiError, error_responses
from shared.runtime import PlaceRuntime
from shared.security.tokens import Principal, Role

Writer = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR))]
Reader = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR, Role.AUDITOR))]


# `async def`: a plain function would be run in the thread pool (a hand-off per request for a
# lookup).
async def runtime(request: Request) -> PlaceRuntime:
    return request.app.state.runtime


Runtime = Annotated[PlaceRuntime, Depends(runtime)]


async def application(request: Request) -> OutflowApplication:
    return request.app.state.runtime.app


App = Annotated[OutflowApplication, Depends(application)]

ERRORS = error_responses(
    _404="Not found, e.g. `member.not_found`",
    _409="Wrong state (e.g. `member.wrong_state`) or a concurrent update "
    "(`conflict.concurrent_update`: retry)",
    _422="A rule failed, e.g. `resident_id.check_character`, `place.not_county`, "
    "`departure.future_date`; or an invalid request (`request.invalid`, with `details`)",
)


async def idempotency_request(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Client-chosen unique key (8-200 chars); a retry with the same key "
            "returns the stored result instead of applying the write again",
            examples=["2026-03-10-payout-0001"],
        ),
    ] = None,
) -> str:
    if key is None or not 8 <= len(key) <= 200:
        raise ApiError(
            "idempotency.key_required",
            "fund writes need an Idempotency-Key header of 8 to 200 characters",
            400,
        )
    return key


IdempotencyKey = Annotated[str, Depends(idempotency_request)]


def idempotent(key: str, request: Request, body: BaseModel | None) -> IdempotentRequest:
    payload = json.dumps(
        body.model_dump(mode="json") if body is not None else {}, sort_keys=True
    ).encode()
    digest = hashlib.sha256(payload).hexdigest()
    return IdempotentRequest(key, f"{request.method} {request.url.path} {digest}")
