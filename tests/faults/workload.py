"""The clients of a fault run: offices at both places writing about their members over HTTP.

Each member's writes at one place are sequential (one office, one member at a time), so the
order in which they were acknowledged is the order the other side must record them in. Many
members are written in parallel. Every call is logged in the history; a refused call is retried
(a new operation aiming at the same fact), an unknown one is not (it may be stored already), so
the workload itself never writes a fact twice.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from services.inflow.domain.member import hosted_member_id
from tests.faults.history import FAILED, OK, UNKNOWN, History, Op
from tests.faults.places import HOST, Exchange
from tests.support.factories import departure_body, member_body

RETRY_STATUSES = {409, 429, 502, 503, 504}  # definite: nothing was written, try again


class Workload:
    def __init__(self, exchange: Exchange, history: History, rng: random.Random):
        self.ex, self.history, self.rng = exchange, history, rng
        self.certificates: dict[str, str] = {}
        # Retrying waits out a place that is restarting; a place that refuses for good must not
        # hold the run past its time, so all retries of a run share one budget of seconds.
        self.retry_budget = 120.0
        self.rounds: dict[str, int] = {}
        self._lock = threading.Lock()

    def call(
        self,
        side: str,
        member: str,
        kind: str,
        key: str,
        method: str,
        path: str,
        body: Any = None,
        patience: float = 45.0,
    ) -> tuple[Op, httpx.Response | None]:
        deadline = time.monotonic() + patience
        while True:
            op = self.history.invoke(side, member, kind, key)
            try:
                response = self.ex.clients[side].request(method, path, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                self.history.complete(op, FAILED, f"not reached: {exc!r}")
            except httpx.HTTPError as exc:  # sent, then no (complete) answer
                return self.history.complete(op, UNKNOWN, repr(exc)), None
            else:
                if response.is_success:
                    return self.history.complete(op, OK), response
                detail = f"{response.status_code} {response.text}"
                if response.status_code >= 500 and response.status_code not in RETRY_STATUSES:
                    return self.history.complete(op, UNKNOWN, detail), response
                self.history.complete(op, FAILED, detail)
                if response.status_code not in RETRY_STATUSES:
                    return op, response
            with self._lock:
                self.retry_budget -= 0.2
                exhausted = self.retry_budget <= 0
            if exhausted or time.monotonic() > deadline:
                return op, None
            time.sleep(0.2)

    def enrol(self, count: int, workers: int = 4) -> list[str]:
        """Registers members and departs them to the host; returns those whose departure was
        acknowledged."""

        def one(_: int) -> str | None:
            with self._lock:
                body = member_body(self.rng)
                departure = departure_body(HOST, self.rng)
            op, response = self.call("origin", "", "register", "", "POST", "/api/v1/members", body)
            if op.status != OK or response is None:
                return None
            member = response.json()["member_id"]
            op.member = member
            path = f"/api/v1/members/{member}/departures"
            op, response = self.call(
                "origin", member, "depart", "departure", "POST", path, departure
            )
            if op.status != OK or response is None:
                return None
            self.certificates[member] = response.json()["certificate_no"]
            return member

        with ThreadPoolExecutor(workers) as pool:
            return [m for m in pool.map(one, range(count)) if m]

    def next_round(self, side: str, member: str) -> int:
        with self._lock:
            n = self.rounds[f"{side}:{member}"] = self.rounds.get(f"{side}:{member}", 0) + 1
            return n

    def origin_round(self, member: str, n: int) -> None:
        """A correction of the employer (the member aggregate) and an origin evaluation (another
        aggregate of the same member): per-member order across aggregates."""
        value = f"o{n}.{member[:8]}"
        path = f"/api/v1/members/{member}"
        self.call("origin", member, "employer", value, "PATCH", path, {"employer": value})
        year = 2000 + n
        path = f"/api/v1/members/{member}/assessments/{year}/origin-evaluation"
        grade = self.rng.choice(["excellent", "competent", "basically_competent"])
        self.call("origin", member, "origin_eval", str(year), "POST", path, {"grade": grade})

    def host_round(self, member: str, n: int) -> None:
        """The member's report (first round), then an activity each round; the host's facts
        about one member cross from the member record and from each activity's aggregate."""
        hosted = str(hosted_member_id(HOST, member))
        if n == 1:
            body = {"certificate_no": self.certificates[member], "reported_on": "2026-03-10"}
            path = f"/api/v1/members/{hosted}/report"
            self.call("host", member, "report", "report", "POST", path, body)
        title = f"a{n}.{member[:8]}"
        body = {
            "kind": "study_session",
            "title": title,
            "held_on": "2026-03-20",
            "organiser": "fault-suite",
            "attendee_ids": [hosted],
        }
        self.call("host", member, "activity", title, "POST", "/api/v1/activities", body)

    def host_evaluation(self, member: str) -> None:
        hosted = str(hosted_member_id(HOST, member))
        body = {"year": 2026, "grade": "competent"}
        path = f"/api/v1/members/{hosted}/evaluations"
        self.call("host", member, "host_eval", "2026", "POST", path, body)

    def run(
        self,
        members: list[str],
        rounds: int,
        sides: tuple[str, ...] = ("origin", "host"),
        workers: int = 4,
        until: threading.Event | None = None,
    ) -> int:
        """Waves of writes: in each, every member gets one round at each of `sides`, members in
        parallel. At least `rounds` waves, and on until `until` is set. Returns the waves."""

        def one(job: tuple[str, str]) -> None:
            side, member = job
            n = self.next_round(side, member)
            if side == "origin":
                self.origin_round(member, n)
            else:
                self.host_round(member, n)

        waves = 0
        with ThreadPoolExecutor(workers) as pool:
            while waves < rounds or (until is not None and not until.is_set()):
                jobs = [(side, member) for member in members for side in sides]
                self.rng.shuffle(jobs)
                list(pool.map(one, jobs))
                waves += 1
        return waves

    def evaluate_at_host(self, members: list[str], workers: int = 4) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(self.host_evaluation, members))
