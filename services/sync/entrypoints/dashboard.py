"""The operators' dashboard: one page that watches links, dead letters and reconciliation.

The page, its script and its style carry no data; the script reads the admin endpoints with the
token the operator types in, so the dashboard sees exactly what that token may see.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/dashboard")
def dashboard() -> FileResponse:
    return FileResponse(STATIC / "dashboard.html", media_type="text/html; charset=utf-8")


@router.get("/dashboard/dashboard.js")
def dashboard_script() -> FileResponse:
    return FileResponse(STATIC / "dashboard.js", media_type="text/javascript; charset=utf-8")


@router.get("/dashboard/dashboard.css")
def dashboard_style() -> FileResponse:
    return FileResponse(STATIC / "dashboard.css", media_type="text/css; charset=utf-8")
