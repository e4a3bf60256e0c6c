"""`liangdi export`: download the origin county's roster (花名册), fund ledger or evaluation list
as CSV or XLSX, through the outflow service's API with a bearer token.

The file is written under a temporary name and renamed when complete, so an interrupted export
never leaves a truncated spreadsheet behind that looks like a finished one.
"""

from __future__ import annotations

import os
import re
from datetime import date
from enum import StrEnum
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from liangdi_cli import runfile

console = Console(stderr=True)


class ListName(StrEnum):
    roster = "roster"
    ledger = "ledger"
    evaluations = "evaluations"


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _service_url(url: str | None, place: str, var_dir: Path) -> str:
    if url:
        return url.rstrip("/")
    info = runfile.read(var_dir.resolve())
    for proc in info.services if info else []:
        if proc.name == f"outflow-{place}":
            return proc.url.rstrip("/")
    console.print(
        f"[red]no outflow service for {place}[/]: pass --url (or start the stack with `liangdi up`)"
    )
    raise typer.Exit(2)


def _filename(disposition: str, fallback: str) -> str:
    found = re.search(r'filename="([^"]+)"', disposition)
    return Path(found.group(1)).name if found else fallback


def export(
    list_name: ListName = typer.Argument(..., help="roster (花名册), ledger or evaluations"),
    format: Format = typer.Option(Format.xlsx, "--format", "-f", help="xlsx or csv"),
    start: str | None = typer.Option(None, "--from", help="First day, e.g. 2026-01-01"),
    end: str | None = typer.Option(None, "--to", help="Last day, e.g. 2026-06-30"),
    year: int | None = typer.Option(None, "--year", help="A year instead of --from/--to"),
    quarter: int | None = typer.Option(None, "--quarter", help="With --year: 1 to 4"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Default: the server's file name, here"
    ),
    place: str = typer.Option("371326", "--place", help="The origin county's code"),
    url: str | None = typer.Option(
        None, "--url", envvar="LIANGDI_OUTFLOW_URL", help="Default: from <var-dir>/run.json"
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="LIANGDI_TOKEN",
        help="Bearer token (`liangdi token issue --role origin_operator --place 371326`); an "
        "auditor's token gets masked names",
    ),
    var_dir: Path = typer.Option(Path("var"), "--var-dir", help="Where `liangdi up` runs."),
    timeout: float = typer.Option(300.0, help="Seconds to wait for the service to answer."),
) -> None:
    """Export a list for one origin county and period (default: this year to date)."""
    if not token:
        console.print(
            "[red]no token[/]: pass --token or set LIANGDI_TOKEN "
            f"(`liangdi token issue --role origin_operator --place {place}`)"
        )
        raise typer.Exit(2)
    for day in (start, end):
        if day is not None:
            try:
                date.fromisoformat(day)
            except ValueError:
                console.print(f"[red]not a date[/]: {day} (use YYYY-MM-DD)")
                raise typer.Exit(2) from None
    params = {
        "format": format.value,
        "from": start,
        "to": end,
        "year": year,
        "quarter": quarter,
    }
    base = _service_url(url, place, var_dir)
    target = f"{base}/api/v1/reports/exports/{list_name.value}"
    headers = {"Authorization": f"Bearer {token}"}
    query = {k: v for k, v in params.items() if v is not None}
    # trust_env=False: a developer's HTTP(S)_PROXY must not intercept a local service.
    with (
        httpx.Client(timeout=timeout, trust_env=False) as client,
        client.stream("GET", target, params=query, headers=headers) as response,
    ):
        if response.status_code != 200:
            response.read()
            try:
                error = response.json()["error"]
                detail = f"{error['code']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                detail = response.text[:500]
            console.print(f"[red]export failed ({response.status_code})[/] {detail}")
            raise typer.Exit(1)
        default = f"{list_name.value}-{place}.{format.value}"
        path = output or Path(_filename(response.headers.get("content-disposition", ""), default))
        written = _download(response, path)
    rows = response.headers.get("x-export-rows")
    console.print(f"wrote {path} ({written:,} bytes" + (f", {int(rows):,} rows)" if rows else ")"))


def _download(response: httpx.Response, path: Path) -> int:
    length = response.headers.get("content-length")
    partial = path.with_name(f".{path.name}.part")
    written = 0
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    try:
        with progress, partial.open("wb") as out:
            # No length for a streamed CSV: the bar pulses and counts bytes as they arrive.
            task = progress.add_task(path.name, total=int(length) if length else None)
            for chunk in response.iter_bytes():
                out.write(chunk)
                written += len(chunk)
                progress.update(task, completed=written)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written
