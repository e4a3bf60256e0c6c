"""ASGI entry point: `uvicorn services.sync.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.sync.bootstrap import bootstrap
from services.sync.entrypoints.admin import router
from services.sync.entrypoints.dashboard import router as dashboard_router
from services.sync.entrypoints.reconciliation import router as reconciliation_router
from shared.http.app import service_app
from shared.logging import configure_logging


def create_app(build=bootstrap) -> FastAPI:  # type: ignore[no-untyped-def]
    return service_app(
        title="liangdi sync — the exchange",
        description="Carries each place's facts to the other side over NATS JetStream exactly "
        "once in effect, reconciles two-way assessments and membership state, and lets "
        "operators watch and steer every link.",
        routers=[router, reconciliation_router, dashboard_router],
        build_runtime=build,
    )


# Once per process, before uvicorn (which imports this module) logs a line: JSON to stderr.
configure_logging("sync")
app = create_app()
