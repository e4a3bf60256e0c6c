"""The exchange's dashboard (`/dashboard`): links with throughput and lag charts, dead letters
with retry and discard, pause / resume / replay, anti-entropy runs and the reconciliation report.

The page is served by the shared dashboard code (shared/http/dashboard.py: the language
dictionary, charts, place names and style every service's page uses); the two files here are
the exchange's own page and script.
"""

from __future__ import annotations

from pathlib import Path

from shared.http.dashboard import dashboard_router

STATIC = Path(__file__).parent / "static"
router = dashboard_router(STATIC / "dashboard.html", STATIC / "dashboard.js")
