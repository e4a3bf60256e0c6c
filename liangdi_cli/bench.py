"""`liangdi bench`: the benchmarks of docs/performance.md, from a source checkout.

The benchmarks live in the repository's `bench/` folder and use the test suite's helpers
(`tests/support`: a nats-server with the places' users, services in-process), so the command runs
from a checkout with the test extra installed, against PostgreSQL (`--database-url`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[1]
NAMES = ("commands", "replication", "antientropy", "coldstart")


def bench(
    quick: bool = typer.Option(False, "--quick", help="Small sizes (CI): under 90 s in all."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Also write the figures as a JSON list to this file."
    ),
    only: list[str] = typer.Option(
        [], "--only", help=f"Run only these benchmarks (of {', '.join(NAMES)})."
    ),
    catch_up: int | None = typer.Option(
        None,
        "--catch-up",
        min=1,
        max=1_000_000,
        help="Catch-up: one round of this many departures with the host down (the issue's "
        "size is 60000: several minutes, most of them writing the backlog).",
    ),
    database_url: str = typer.Option(
        "",
        "--database-url",
        envvar="LIANGDI_BENCH_DATABASE_URL",
        help="PostgreSQL to measure on (fresh schemas, dropped afterwards); "
        "default postgresql://postgres@127.0.0.1:5432/test.",
    ),
) -> None:
    """Measure commands, replication, catch-up, anti-entropy and cold start against raw
    baselines taken in the same run (docs/performance.md)."""
    if not (REPO / "bench" / "suite.py").exists():
        typer.echo("liangdi bench runs from a source checkout (bench/ not found)", err=True)
        raise typer.Exit(2)
    unknown = sorted(set(only) - set(NAMES))
    if unknown:
        typer.echo(f"unknown benchmark(s): {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    sys.path.insert(0, str(REPO))
    from bench import suite

    chosen = tuple(name for name in NAMES if not only or name in only)
    figures = suite.run(
        quick=quick, database=database_url, only=chosen, say=typer.echo, catch_up=catch_up
    )
    typer.echo(suite.table(figures))
    if json_path is not None:
        suite.write_json(figures, json_path)
        typer.echo(f"written to {json_path}")
