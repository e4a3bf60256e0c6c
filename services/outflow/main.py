"""ASGI entry point: `uvicorn services.outflow.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.outflow.bootstrap import bootstrap
from services.outflow.entrypoints import (
    assessments,
    certificates,
    departures,
    fund,
    host_organisations,
    lost_contact,
    members,
    personal,
    reports,
    transfers,
    verification,
)
from shared.http.app import service_app
from shared.logging import configure_logging

ROUTERS = [members, departures, verification, lost_contact, transfers, assessments, fund]
ROUTERS.append(personal)  # full personal data, audited (docs/security.md)
ROUTERS += [certificates, host_organisations]  # practices (docs/practices.md)
ROUTERS.append(reports)  # the county leadership's report and exports (docs/operations.md)


def create_app(build=bootstrap) -> FastAPI:  # type: ignore[no-untyped-def]
    app = service_app(
        title="liangdi outflow — origin county (流出地)",
        description="The origin county's record of its mobile members: information base, "
        "departures with activity certificates, verification, lost contact, transfers, "
        "evaluations and the hardship assistance fund. Errors are `{error: {code, message}}` "
        "with a stable code; fund writes need an `Idempotency-Key` header.",
        routers=[m.router for m in ROUTERS],
        build_runtime=build,
    )
    return app


# Once per process, before uvicorn (which imports this module) logs a line: JSON to stderr.
configure_logging("outflow")
app = create_app()
