"""The operators' pages (`/dashboard`) of the three services: one page, one script, one style.

The page, script and style are public and carry no operational data: the script reads the
admin endpoints with the token the operator types in, so a page sees exactly what that token
may see. The script is one bundle built from small files: the shared language dictionary,
charts and helpers under `static/dashboard/`, the GB/T 2260 place names (a public standard, so
that an operator reads 平邑县 beside 371326), then the page's own script. Everything ships with
the package: a government network without internet access loads nothing from elsewhere.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from shared.validation.places import place_names

STATIC = Path(__file__).parent / "static" / "dashboard"
SHARED_SCRIPTS = ("i18n.js", "places.js", "charts.js", "common.js")
HTML = "text/html; charset=utf-8"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


@cache
def bundle(page_script: Path) -> str:
    """The shared scripts, the place-name table, then the page's own script, in that order."""
    names = json.dumps(place_names(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    parts = [f'"use strict";\n// GB/T 2260 names by code\nconst PLACE_NAMES = {names};']
    parts += [(STATIC / name).read_text(encoding="utf-8") for name in SHARED_SCRIPTS]
    parts.append(page_script.read_text(encoding="utf-8"))
    return "\n\n".join(parts)


def dashboard_router(page: Path, script: Path) -> APIRouter:
    """`/dashboard` with `page` (HTML), the bundle ending in `script`, and the shared style."""
    router = APIRouter(tags=["dashboard"], include_in_schema=False)

    @router.get("/dashboard")
    def dashboard() -> FileResponse:
        return FileResponse(page, media_type=HTML)

    @router.get("/dashboard/dashboard.js")
    def dashboard_script() -> Response:
        return Response(bundle(script), media_type=JS)

    @router.get("/dashboard/dashboard.css")
    def dashboard_style() -> FileResponse:
        return FileResponse(STATIC / "dashboard.css", media_type=CSS)

    return router


def place_dashboard_router() -> APIRouter:
    """The page of an origin county's or host district's own service (outflow, inflow)."""
    return dashboard_router(STATIC / "place.html", STATIC / "place.js")
