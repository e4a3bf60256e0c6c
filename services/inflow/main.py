"""ASGI entry point: `uvicorn services.inflow.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.inflow.bootstrap import bootstrap
from services.inflow.entrypoints import (
    activities,
    arrivals,
    assistance,
    branches,
    cards,
    commitments,
    evaluations,
    fixed_days,
    members,
    organisation_tree,
    personal,
    reporting,
    transfers,
)
from shared.http.app import service_app
from shared.logging import configure_logging

ROUTERS = [members, arrivals, reporting, branches, activities, evaluations, assistance, transfers]
ROUTERS.append(personal)  # full personal data, audited (docs/security.md)
ROUTERS += [organisation_tree, commitments]  # practices (docs/practices.md)
ROUTERS += [cards, fixed_days]  # the pioneer card and fixed days (docs/practices.md)


def create_app(build=bootstrap) -> FastAPI:  # type: ignore[no-untyped-def]
    return service_app(
        title="liangdi inflow — host district (流入地)",
        description="The host district's record of the members it receives: expected arrivals, "
        "reporting, branches, activities, host evaluations, assistance requests and transfers in.",
        routers=[module.router for module in ROUTERS],
        build_runtime=build,
    )


# Once per process, before uvicorn (which imports this module) logs a line: JSON to stderr.
configure_logging("inflow")
app = create_app()
