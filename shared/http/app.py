"""The FastAPI application shell shared by the three services: lifespan, errors, health, metrics,
and security (authentication and the role matrix on every route, request hygiene, audit).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.cors import CORSMiddleware

from shared.collector import collect_less_often
from shared.http.auth import guard
from shared.http.dashboard import place_dashboard_router
from shared.http.docs import install_docs
from shared.http.errors import ERROR_RESPONSES, install_error_handlers, operation_id
from shared.http.middleware import (
    AuditWrites,
    BodyLimit,
    DocsGate,
    RequestContext,
    SecurityHeaders,
)
from shared.http.read_models import ReadModelHeader, read_models_router
from shared.http.tags import TAGS
from shared.logging import bind_service
from shared.security.audit import AuditTrail, audit_router
from shared.security.deployment import check_deployment, cors_origins
from shared.security.matrix import PUBLIC_PATHS
from shared.security.tokens import KeyRing
from shared.store_setup import setting_up

log = logging.getLogger(__name__)


class Runtime(Protocol):
    place: str | None
    jwt_secret: str
    engine: Any

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def readiness(self) -> tuple[bool, dict[str, Any]]: ...


def service_of(title: str, routers: list[APIRouter]) -> str:
    """The service name (outflow, inflow, sync): from its routes' modules, else its title."""
    for router in routers:
        for route in router.routes:
            parts = getattr(getattr(route, "endpoint", None), "__module__", "").split(".")
            if len(parts) > 1 and parts[0] == "services":
                return parts[1]
    return title.split()[1] if title.startswith("liangdi ") else title


def service_app(
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    build_runtime: Callable[[], Runtime],
) -> FastAPI:
    service = service_of(title, routers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        collect_less_often()  # a long-running process (shared/collector.py)
        runtime = build_runtime()
        # Before the runtime starts its tasks: they inherit service and place for their lines.
        bind_service(service, runtime.place)
        settings = getattr(runtime, "settings", None)
        check_deployment(service, settings, runtime.jwt_secret)
        app.state.runtime = runtime
        app.state.place = runtime.place
        app.state.jwt_secret = runtime.jwt_secret
        app.state.jwt_keys = KeyRing.of(runtime.jwt_secret)
        app.state.environment = getattr(settings, "environment", "development")
        app.state.max_body_bytes = getattr(settings, "max_body_bytes", 1_000_000)
        with setting_up(runtime.engine):  # its table (shared/store_setup.py)
            app.state.audit = AuditTrail(runtime.engine, service, runtime.place)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # /docs and /redoc are served with assets shipped in the package (shared/http/docs.py).
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
    )
    install_docs(app)
    app.state.service = service
    install_error_handlers(app)
    app.include_router(health_router())
    guarded = [Depends(guard)]
    # The place services keep read models an operator may have to resume (docs/operations.md),
    # and have a page of their own for their operators (the exchange brings its own).
    place_service = service in ("outflow", "inflow")
    own = [read_models_router(), place_dashboard_router()] if place_service else []
    for router in [*routers, *own, audit_router()]:
        # A router made only of public paths (the dashboard's page and assets) needs no token;
        # every other route passes the role matrix.
        public = all(getattr(r, "path", None) in PUBLIC_PATHS for r in router.routes)
        app.include_router(
            router, dependencies=[] if public else guarded, responses=ERROR_RESPONSES
        )
    # Added innermost first: a request passes RequestContext, SecurityHeaders, CORS, BodyLimit,
    # DocsGate, Audit.
    app.add_middleware(ReadModelHeader)
    app.add_middleware(AuditWrites)
    app.add_middleware(DocsGate)
    app.add_middleware(BodyLimit)
    origins = cors_origins()
    if origins:  # closed by default: without an allow-list browsers get no CORS grant at all
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],  # a browser's caller may quote it in a report
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    return app


def health_router() -> APIRouter:
    """Public: liveness, readiness and metrics. None of them may carry personal data."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the store answers and start-up work is done")
    def readyz(request: Request) -> JSONResponse:
        ready, detail = request.app.state.runtime.readiness()
        return JSONResponse({"ready": ready, **detail}, status_code=200 if ready else 503)

    @router.get(
        "/metrics",
        summary="Prometheus metrics (no personal data)",
        response_class=PlainTextResponse,  # the Prometheus text format, not JSON
    )
    def metrics(request: Request) -> Response:
        body = generate_latest()
        # A runtime may keep its own registry (several services can share a test process).
        extra = getattr(getattr(request.app.state, "runtime", None), "metrics_registry", None)
        if extra is not None:
            body += generate_latest(extra)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
