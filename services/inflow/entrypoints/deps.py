"""What every inflow router shares: roles, the runtime, and translating domain errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Request

from services.inflow.application import InflowApplication
from services.inflow.domain.errors import DomainError
from shared.http.auth import allow
from shared.http.errors import ApiError
from shared.http.paging import Limit, Offset  # noqa: F401 - re-exported
from shared.runtime import PlaceRuntime
from shared.security.tokens import Principal, Role

R = TypeVar("R")

Writer = Annotated[Principal, Depends(allow(Role.HOST_OPERATOR))]
Reader = Annotated[Principal, Depends(allow(Role.HOST_OPERATOR, Role.AUDITOR))]


def runtime(request: Request) -> PlaceRuntime:
    return request.app.state.runtime


Runtime = Annotated[PlaceRuntime, Depends(runtime)]


def app_of(rt: PlaceRuntime) -> InflowApplication:
    return rt.app  # type: ignore[return-value]


def act(rt: PlaceRuntime, command: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Runs a command; a domain refusal becomes its 4xx, a success is readable at once."""
    try:
        result = command(*args, **kwargs)
    except DomainError as exc:
        raise ApiError(exc.code, exc.message, exc.status) from None
    rt.after_write()
    return result


def read(rt: PlaceRuntime, query: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    with rt.engine.connect() as conn:
        return query(conn, *args, **kwargs)


def connection(rt: PlaceRuntime) -> sa.Connection:
    return rt.engine.connect()
