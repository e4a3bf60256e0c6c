"""What every outflow router shares: roles, the runtime, idempotency keys, error translation."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.outflow.application import (
    IdempotencyKeyReused,
    IdempotentRequest,
    MemberAlreadyRegistered,
    NotFoundError,
    OutflowApplication,
    Stored,
)
from services.outflow.domain.errors import DomainError, Missing, WrongState
from shared.http.auth import allow
from shared.http.errors import ApiError, error_body
from shared.runtime import PlaceRuntime
from shared.security.tokens import Principal, Role

Writer = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR))]
Reader = Annotated[Principal, Depends(allow(Role.ORIGIN_OPERATOR, Role.AUDITOR))]


def runtime(request: Request) -> PlaceRuntime:
    return request.app.state.runtime


Runtime = Annotated[PlaceRuntime, Depends(runtime)]


def application(request: Request) -> OutflowApplication:
    return request.app.state.runtime.app


App = Annotated[OutflowApplication, Depends(application)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid bearer token (`auth.required`, `auth.invalid_token`)"},
    403: {"description": "Role or place not allowed (`auth.forbidden`, `auth.wrong_place`)"},
    404: {"description": "Not found, e.g. `member.not_found`"},
    409: {
        "description": "Wrong state (e.g. `member.wrong_state`) or a concurrent update "
        "(`conflict.concurrent_update`: retry)"
    },
    422: {
        "description": "A rule failed: `{error: {code, message}}`, e.g. `resident_id.check_"
        "character`, `place.not_county`, `departure.future_date`"
    },
}


def idempotency_request(
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


def stored_response(stored: Stored) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


def install_outflow_errors(app: FastAPI) -> None:
    """Domain errors → 4xx with their stable code; never a 500."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        status = 409 if isinstance(exc, WrongState) else 404 if isinstance(exc, Missing) else 422
        return JSONResponse(error_body(exc.code, exc.message), status_code=status)

    @app.exception_handler(NotFoundError)
    async def _missing(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=404)

    @app.exception_handler(MemberAlreadyRegistered)
    async def _dup(_: Request, exc: MemberAlreadyRegistered) -> JSONResponse:
        return JSONResponse(
            error_body("member.already_registered", f"member {exc} is already registered"), 409
        )

    @app.exception_handler(IdempotencyKeyReused)
    async def _reused(_: Request, exc: IdempotencyKeyReused) -> JSONResponse:
        return JSONResponse(error_body(exc.code, str(exc)), status_code=422)
