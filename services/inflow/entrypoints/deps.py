"""What every inflow router shares: roles, the runtime, running a command then reading it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from services.inflow.application import InflowApplication
from shared.http.auth import allow
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
    """Runs a command and tells the read models and the relay (`read` waits for its success to
    be readable). A domain refusal propagates to the one mapping at the HTTP edge
    (shared.http.errors)."""
    result = command(*args, **kwargs)
    rt.after_write()
    return result


def read(rt: PlaceRuntime, query: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """A query of the read models, once they hold every write so far (a write's own answer and
    a command deciding on what they show need it; for an API read it is done already)."""
    rt.fresh_reads()
    with rt.engine.connect() as conn:
        return query(conn, *args, **kwargs)
