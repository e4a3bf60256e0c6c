"""The FastAPI application shell shared by the three services: lifespan, errors, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.http.errors import install_error_handlers


class Runtime(Protocol):
    place: str | None
    jwt_secret: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def readiness(self) -> tuple[bool, dict[str, Any]]: ...


def service_app(
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    build_runtime: Callable[[], Runtime],
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime()
        app.state.runtime = runtime
        app.state.place = runtime.place
        app.state.jwt_secret = runtime.jwt_secret
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    return app


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the store answers and start-up work is done")
    def readyz(request: Request) -> JSONResponse:
        ready, detail = request.app.state.runtime.readiness()
        return JSONResponse({"ready": ready, **detail}, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics (no personal data)")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
