"""Operator endpoints of the exchange."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from services.sync.adapters.links import links_view
from services.sync.bootstrap import SyncRuntime
from shared.http.auth import allow
from shared.security.tokens import Principal, Role

router = APIRouter(prefix="/admin", tags=["admin"])
Operator = Annotated[Principal, Depends(allow(Role.SYNC_ADMIN, Role.AUDITOR))]


def runtime(request: Request) -> SyncRuntime:
    return request.app.state.runtime


Runtime = Annotated[SyncRuntime, Depends(runtime)]


@router.get("/links", summary="Every link by direction and place pair: state, positions, lag")
def links(rt: Runtime, _: Operator) -> dict[str, Any]:
    observer = rt.observer
    return {
        "links": links_view(observer.statuses, observer.consumers),
        "places": sorted(observer.statuses),
    }
