"""ASGI entry point: `uvicorn services.outflow.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.outflow.bootstrap import bootstrap
from services.outflow.entrypoints.api import router
from shared.http.app import service_app


def create_app(build=bootstrap) -> FastAPI:  # type: ignore[no-untyped-def]
    return service_app(
        title="liangdi outflow — origin county (流出地)",
        description="The origin county's record of its mobile members: information base, "
        "departures with activity certificates, verification, lost contact, transfers, "
        "evaluations and the hardship assistance fund.",
        routers=[router],
        build_runtime=build,
    )


app = create_app()
