"""Reports for the county leadership and the lists it exports (花名册, fund ledger, evaluations).

One origin county (this service's place), one period: from/to dates, or a year with an optional
quarter (default: this year up to today). Names follow the reader's role like every other view
(shared/security/masking.py): in full for the origin's operators, masked for auditors; ID numbers
and phones are masked for everyone (the read models hold no others).
"""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from services.outflow.adapters.export_rows import SHEETS, Sheet
from services.outflow.adapters.report_queries import leadership_report
from services.outflow.adapters.spreadsheets import csv_chunks, write_xlsx
from services.outflow.domain.report_period import Period
from services.outflow.entrypoints.deps import ERRORS, Reader, Runtime
from services.outflow.entrypoints.report_schemas import LeadershipReport
from shared.security.masking import name_for, redact
from shared.validation.bounds import QueryDay, china_today

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=ERRORS)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def period(
    start: QueryDay | None = Query(None, alias="from", examples=["2026-01-01"]),
    end: QueryDay | None = Query(None, alias="to", examples=["2026-06-30"]),
    year: int | None = Query(None, ge=2000, le=2100, examples=[2026]),
    quarter: int | None = Query(None, ge=1, le=4, description="with `year`"),
) -> Period:
    """From/to dates, or a year (and quarter); with none of them, this year up to today."""
    return Period.of(start=start, end=end, year=year, quarter=quarter, today=china_today())


Within = Annotated[Period, Depends(period)]


@router.get(
    "/leadership",
    response_model=LeadershipReport,
    summary="The county leadership's report for a period (figures for the dashboard's charts)",
)
def leadership(rt: Runtime, who: Reader, within: Within) -> LeadershipReport:
    as_of = within.as_of(china_today())
    figures = leadership_report(
        rt.engine, rt.app, within, as_of, rt.app.rules.lost_contact_after_days
    )
    return LeadershipReport.model_validate(redact(who, figures))


def _disposition(sheet: Sheet, place: str, within: Period, suffix: str) -> str:
    # An ASCII name for old clients and the Chinese title (RFC 6266 filename*) for the rest.
    stem = f"{sheet.kind}-{place}-{within.start:%Y%m%d}-{within.end:%Y%m%d}"
    title = f"{sheet.title}-{place}-{within.start:%Y%m%d}-{within.end:%Y%m%d}.{suffix}"
    return f"attachment; filename=\"{stem}.{suffix}\"; filename*=UTF-8''{quote(title)}"


@router.get(
    "/exports/{list_name}",
    summary="Export the member roster (花名册), the fund ledger or the evaluation list",
    description="CSV (UTF-8 with BOM, so Excel reads the Chinese) is streamed as it is read; "
    "XLSX is written row by row to a temporary file, then sent. Column headers are Chinese. "
    "Roster: members mobile in the period; ledger: entries dated in it; evaluations: its years.",
    response_class=StreamingResponse,
    response_model=None,
    responses={
        200: {
            "description": "The file, as an attachment (`Content-Disposition`)",
            "content": {"text/csv": {}, XLSX: {}},
        }
    },
)
def export(
    list_name: Literal["roster", "ledger", "evaluations"],
    rt: Runtime,
    who: Reader,
    within: Within,
    format: Literal["csv", "xlsx"] = Query("csv"),
) -> Response:
    sheet = SHEETS[list_name](rt.engine, within, partial(name_for, who))
    disposition = _disposition(sheet, rt.place, within, format)
    if format == "csv":
        return StreamingResponse(
            csv_chunks(sheet),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    handle, name = tempfile.mkstemp(prefix=f"liangdi-{list_name}-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        rows = write_xlsx(sheet, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=XLSX,
        headers={"Content-Disposition": disposition, "X-Export-Rows": str(rows)},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
