"""`liangdi bench --quick --json` runs every benchmark end to end and writes its figures.

No timing is asserted (the machine decides those, docs/performance.md has them): the command
must succeed and each figure must carry a positive measured value, its unit, its baseline and
ratio when it has one, its goal and whether it was met.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

LIANGDI = Path(sys.executable).with_name("liangdi")
EXPECTED = {
    "commands.throughput",
    "commands.p50",
    "commands.p99",
    "replication.throughput",
    "replication.latency_p50",
    "replication.latency_p99",
    "replication.sent_to_host_p50",
    "replication.sent_to_host_p99",
    "replication.link_apart.latency_p50",
    "replication.link_apart.latency_p99",
    "replication.link_apart.sent_to_host_p50",
    "replication.link_apart.sent_to_host_p99",
    "replication.catch_up",
    "replication.link_apart.catch_up",
    "antientropy.repair",
    "antientropy.bytes",
    "antientropy.bytes_100k",
    "coldstart.ready",
    "coldstart.rss",
}
WITH_BASELINE = {
    "commands.throughput",
    "replication.throughput",
    "coldstart.ready",
    "coldstart.rss",
}


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.e2e
@pytest.mark.timeout(280)
def test_quick_bench_writes_every_figure(postgres_url: str, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [str(LIANGDI), "bench", "--quick", "--json", str(out), "--database-url", postgres_url]
        + ["--catch-up", "25"],  # one round of its own size
        capture_output=True,
        text=True,
        timeout=270,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert isinstance(figures, list)
    assert {f["name"] for f in figures} == EXPECTED
    for figure in figures:
        assert {"name", "value", "unit", "baseline", "ratio", "goal", "met"} <= set(figure)
        assert positive(figure["value"]), figure
        assert isinstance(figure["unit"], str) and figure["unit"], figure
        assert isinstance(figure["goal"], str), figure
        assert figure["met"] in (True, False, None), figure
        assert (figure["met"] is None) == (figure["goal"] == ""), figure
        if figure["name"] in WITH_BASELINE:
            assert positive(figure["baseline"]), figure
            assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline"], rel=1e-3)
        else:
            assert figure["baseline"] is None and figure["ratio"] is None, figure
    for name in ("replication.catch_up", "replication.link_apart.catch_up"):
        (catch_up,) = [f for f in figures if f["name"] == name]
        assert catch_up["size"] == "1 rounds of 25 departures with the host down"
        assert len(catch_up["runs"]) == 1
    # The table on stdout names every figure too.
    for name in EXPECTED:
        assert f"| {name} |" in done.stdout
