"""The read models of a place service for its operators: state, and the ways back after a halt.

`GET /admin/read-models` lists each read model with its position, the head of the event store,
the lag, running/halted, the failure that halted it and how earlier ones were resolved. Retry,
skip and rebuild are documented in docs/operations.md ("Read models"). `ReadModelHeader` makes
the API's reads wait for the read models, and adds `X-Liangdi-Read-Model: behind` to a response
that was answered while a read model could not catch up.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.errors import ApiError
from shared.projection import ReadModel
from shared.read_models import ReadModelSet, Refused, behind_in_request, waited_in_request

HEADER = "X-Liangdi-Read-Model"
BEHIND_HEADER = "X-Liangdi-Read-Models-Behind"
Name = Annotated[str, Path(pattern=r"^[a-z_]{1,40}$", examples=["fund"])]


class ReadModelHeader:
    """Pure ASGI: read-your-writes for the API's reads, and the header that says when a read
    model stayed behind.

    A read (GET or HEAD under /api/) first waits until the read models have passed the head of
    the event log (`PlaceRuntime.fresh_reads`): everything answered before it was asked is in
    what it reads. Writes do not wait; a write whose answer reads a read model waits the same
    way in its route (the inflow `read` helper, the outflow member summary).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        behind: list[str] = []  # mutated in the route's worker thread (the context is copied)
        token, waited = behind_in_request.set(behind), None

        async def tell(message: Message) -> None:
            if message["type"] == "http.response.start" and behind:
                headers = MutableHeaders(scope=message)
                headers[HEADER] = "behind"
                headers[BEHIND_HEADER] = ",".join(behind)
            await send(message)

        try:
            runtime = getattr(scope["app"].state, "runtime", None)
            if _is_read(scope) and hasattr(runtime, "fresh_reads"):
                await asyncio.to_thread(runtime.fresh_reads)
                waited = waited_in_request.set(True)
            await self.app(scope, receive, tell)
        finally:
            behind_in_request.reset(token)
            if waited is not None:
                waited_in_request.reset(waited)


def _is_read(scope: Scope) -> bool:
    return scope["method"] in ("GET", "HEAD") and scope["path"].startswith("/api/")


class Failure(BaseModel):
    id: int
    position: int = Field(description="Notification id of the event the read model halted at")
    event_type: str
    originator_id: str
    originator_version: int
    error: str
    failed_at: datetime
    state: str = Field(description="halted, retried, skipped or rebuilt")
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reason: str | None = None


class ReadModelView(BaseModel):
    name: str
    tables: list[str]
    position: int
    head: int
    lag: int
    state: str = Field(description="running or halted")
    failure: Failure | None = Field(None, description="What halted it, while halted")
    last_error: str | None = Field(None, description="A passing database error, retried")
    handled_since_start: int
    history: list[Failure] = Field(description="Earlier failures and how they were resolved")


class ReadModelsView(BaseModel):
    service: str
    place: str | None
    read_models: list[ReadModelView]


class Retry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500, examples=["fix deployed (release 1.4.2)"])


class Skip(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: int = Field(
        ge=1, le=2**63 - 1, examples=[42], description="The position it is halted at"
    )
    reason: str = Field(
        min_length=3, max_length=500, examples=["amount beyond any real contribution"]
    )


class Rebuild(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500, examples=["table damaged by a manual edit"])


def _set(request: Request) -> ReadModelSet:
    return request.app.state.runtime.read_models


def _model(request: Request, name: str) -> tuple[ReadModelSet, ReadModel]:
    models = _set(request)
    model = models.get(name)
    if model is None:
        raise ApiError("read_model.not_found", f"no read model {name!r} here", 404)
    return models, model


def _by(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    return f"{principal.role}:{principal.subject}" if principal else "unknown"


def _view(models: ReadModelSet, name: str) -> dict[str, Any]:
    return next(m for m in models.status() if m["name"] == name)


def _act(request: Request, name: str, action: str, **kwargs: Any) -> dict[str, Any]:
    models, model = _model(request, name)
    try:
        getattr(models, action)(model, by=_by(request), **kwargs)
    except Refused as exc:
        raise ApiError(exc.code, exc.message, 409) from None
    return _view(models, name)


def read_models_router() -> APIRouter:
    router = APIRouter(prefix="/admin/read-models", tags=["read models"])

    @router.get("", response_model=ReadModelsView, summary="Read models: position, lag, halts")
    def list_read_models(request: Request) -> dict[str, Any]:
        runtime = request.app.state.runtime
        return {
            "service": runtime.service,
            "place": runtime.place,
            "read_models": _set(request).status(),
        }

    @router.post(
        "/{name}/retry",
        response_model=ReadModelView,
        summary="Resume a halted read model from the event it failed on (after a fix)",
    )
    def retry(name: Name, body: Retry, request: Request) -> dict[str, Any]:
        return _act(request, name, "retry", reason=body.reason)

    @router.post(
        "/{name}/skip",
        response_model=ReadModelView,
        summary="Skip the one event a read model is halted at, with an audit record",
    )
    def skip(name: Name, body: Skip, request: Request) -> dict[str, Any]:
        return _act(request, name, "skip", position=body.position, reason=body.reason)

    @router.post(
        "/{name}/rebuild",
        status_code=202,
        response_model=ReadModelView,
        summary="Empty a read model and rebuild it from the first event (in the background)",
    )
    def rebuild(name: Name, body: Rebuild, request: Request) -> dict[str, Any]:
        return _act(request, name, "rebuild", reason=body.reason)

    return router
