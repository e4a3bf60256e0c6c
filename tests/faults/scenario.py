"""One fault scenario's run: seed, history, workload, convergence and the final check."""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.messaging.topology import receiver_durable
from tests.faults.checker import Figures, check, missing
from tests.faults.history import OK, History
from tests.faults.observe import observe, observe_both
from tests.faults.places import HOST, ORIGIN, Exchange
from tests.faults.wire import pending
from tests.faults.workload import Workload
from tests.support.harness import REPO

DURABLES = [receiver_durable("outflow", ORIGIN), receiver_durable("inflow", HOST)]
SOAK = bool(os.environ.get("LIANGDI_FAULT_SOAK"))
HISTORIES = REPO / "var" / "faults"  # kept after the run, for reading a failure offline
RESULTS: list[str] = []  # printed at the end of the session (conftest's terminal summary)


@dataclass(frozen=True)
class Profile:
    """Sizes of a run: the quick one CI runs on every change, or the soak."""

    members: int
    rounds: int
    outage: float  # seconds a broker or place stays down while the other side writes
    repeats: int  # how many times a fault is repeated
    converge_timeout: float


QUICK = Profile(members=6, rounds=2, outage=3.0, repeats=1, converge_timeout=45.0)
SOAKING = Profile(members=60, rounds=8, outage=60.0, repeats=6, converge_timeout=600.0)


def profile() -> Profile:
    return SOAKING if SOAK else QUICK


def seed_of(scenario: str) -> int:
    """LIANGDI_FAULT_SEED replays a run; otherwise a fresh seed, printed so it can be."""
    if value := os.environ.get("LIANGDI_FAULT_SEED"):
        return int(value)
    return random.SystemRandom().randrange(1, 2**31)


class Run:
    def __init__(self, scenario: str, exchange: Exchange, logs: Path):
        self.seed = seed_of(scenario)
        print(f"FAULTS {scenario} seed={self.seed} (replay: LIANGDI_FAULT_SEED={self.seed})")
        self.ex, self.logs, self.profile = exchange, logs, profile()
        self.rng = random.Random(self.seed)
        self.history = History()
        self.workload = Workload(exchange, self.history, random.Random(self.rng.random()))
        self.figures = Figures(scenario, self.seed)
        self.digests: dict = {}
        self.forged_streams: set[str] = set()

    def converge(self, timeout: float | None = None) -> float:
        """Seconds until every acknowledged fact is visible at the other side (or the timeout:
        the check then counts what is still missing as lost)."""
        started = time.monotonic()
        deadline = started + (timeout or self.profile.converge_timeout)
        while time.monotonic() < deadline:
            if not missing(self.history, observe(self.ex.origin_db, self.ex.host_db)):
                break
            time.sleep(0.5)
        self.figures.converge_seconds = time.monotonic() - started
        # Then every copy still in flight (redeliveries, re-published duplicates) is settled,
        # so the check sees whatever they would have done.
        while time.monotonic() < deadline and pending(self.ex.nats_url, DURABLES) != 0:
            time.sleep(0.5)
        return self.figures.converge_seconds

    def antientropy(self) -> dict:
        """The sync service's digest comparison of both links (report only, no repair)."""
        response = self.ex.clients["sync"].post(
            "/admin/antientropy/runs", json={"mode": "report"}, timeout=60
        )
        self.digests = response.json() if response.is_success else {"error": response.text}
        return self.digests

    def finish(self, digests: bool = True) -> Figures:
        seen, sent = observe_both(self.ex.origin_db, self.ex.host_db)
        check(self.figures, self.history, seen, sent)
        stopped = self.ex.stopped()
        self.figures.stopped_places = len(stopped)
        self.figures.notes += stopped
        if digests and not stopped:
            result = self.antientropy()
            if not self._agree():
                self.figures.notes.append(f"digests differ: {result}")
        if not self.figures.clean:  # what each place says of itself, for reading the failure
            for name, place in self.ex.places.items():
                try:
                    ready = httpx.get(f"{place.url}/readyz", timeout=3).text[:600]
                except httpx.HTTPError as exc:
                    ready = repr(exc)
                self.figures.notes.append(f"{name} /readyz: {ready}")
        line = self.figures.line() + (" digests=" + ("agree" if self._agree() else "DIFFER"))
        print(line)
        RESULTS.append(line)
        HISTORIES.mkdir(parents=True, exist_ok=True)
        name = f"history-{self.figures.scenario}-{self.seed}.jsonl"
        print(f"history: {self.history.dump(HISTORIES / name)}")
        return self.figures

    def _agree(self) -> bool:
        """The sync service found both ends of every link that carried facts in agreement.

        Facts forged with a place's own key (the poison scenario) are tracked by the receiver
        and never sent by the place: the only difference allowed is the receiver ahead on them."""
        carried = {op.direction for op in self.history.ops if op.direction and op.status == OK}
        links = self.digests.get("links", [])
        if self.digests.get("errors") or not carried <= {link["direction"] for link in links}:
            return False
        for link in links:
            ahead = {entry["stream"] for entry in link.get("receiver_ahead", [])}
            if link.get("missing") or not ahead <= self.forged_streams:
                return False
        return bool(links) or not carried

    def assert_clean(self, digests: bool = True) -> None:
        notes = "\n".join(self.figures.notes[:40])
        assert self.figures.clean, f"{self.figures.line()}\n{notes}"
        assert self.figures.ok > 0, "the workload wrote nothing: the scenario proved nothing"
        if digests:
            assert self._agree(), f"digests differ: {self.digests}"
