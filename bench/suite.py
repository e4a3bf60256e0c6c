"""All benchmarks in one run: the sizes, the order, the table and the JSON (docs/performance.md).

`quick` is for CI (small sizes, under 90 s on two cores); the full sizes are the largest that
run in a few minutes on that machine, far below the issue's (100,000 events, 1,000,000 stored):
the figures are rates and times per size, and docs/performance.md says which sizes gave them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import antientropy, coldstart, commands, replication
from bench.common import DEFAULT_DATABASE, Figure, nats_server

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "commands": {"rounds": 3, "seconds": 1.5},
        "replication": {
            "rounds": 2,
            "backlog": 40,
            "catch_up": 40,
            "latency_rate": 20.0,
            "latency_seconds": 2.0,
        },
        "antientropy": {"rounds": 1, "members": 30},
        "coldstart": {"rounds": 1, "members": 30},
    },
    "full": {
        "commands": {"rounds": 5, "seconds": 5.0},
        "replication": {
            "rounds": 3,
            "backlog": 2000,
            "catch_up": 2000,
            "latency_rate": 200.0,
            "latency_seconds": 5.0,
        },
        "antientropy": {"rounds": 3, "members": 1000},
        "coldstart": {"rounds": 3, "members": 5000},
    },
}

ALL = ("commands", "replication", "antientropy", "coldstart")


def run(
    *,
    quick: bool,
    database: str = "",
    only: tuple[str, ...] = ALL,
    say: Callable[[str], None] = print,
    catch_up: int | None = None,
) -> list[Figure]:
    """`catch_up`: one round of that many departures for the catch-up, in place of the run's
    rounds (the issue's 60,000 are minutes of writing the backlog alone)."""
    database = database or os.environ.get("LIANGDI_BENCH_DATABASE_URL", DEFAULT_DATABASE)
    sizes = SIZES["quick" if quick else "full"]
    if catch_up:
        one_round = {"catch_up": catch_up, "catch_up_rounds": 1}
        sizes = sizes | {"replication": sizes["replication"] | one_round}
    # The services log every request at info; a benchmark wants its own lines only.
    logging.disable(logging.INFO)
    figures: list[Figure] = []
    for name in only:
        # A nats-server each: the same places in fresh schemas publish the same message ids,
        # which the previous benchmark's stream would take for duplicates.
        with nats_server() as server:
            started = time.monotonic()
            if name == "commands":
                found = commands.run(database, **sizes[name])
            elif name == "replication":
                found = replication.run(database, server.url, **sizes[name])
            elif name == "antientropy":
                found = antientropy.run(database, server, **sizes[name])
            else:
                found = coldstart.run(database, server.url, **sizes[name])
            figures += [f.settle() for f in found]
            say(f"{name}: {time.monotonic() - started:.1f} s")
    return figures


def table(figures: list[Figure]) -> str:
    """The markdown table docs/performance.md shows."""
    lines = [
        "| figure | value | spread | unit | baseline | ratio | goal | met | size |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        baseline = f"{f.baseline:.4g}" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.3g}" if f.ratio is not None else "-"
        met = {True: "yes", False: "**no**", None: "-"}[f.met]
        lines.append(
            f"| {f.name} | {f.value:.4g} | {f.spread} | {f.unit} | {baseline} | {ratio} "
            f"| {f.goal or '-'} | {met} | {f.size} |"
        )
    return "\n".join(lines)


def write_json(figures: list[Figure], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([f.as_json() for f in figures], indent=2, ensure_ascii=False) + "\n")
