"""The supervisor's backoff: a crash loop waits longer and longer, up to a cap; a process that ran
for a while before it died starts the count afresh; an operator's restart never waits."""

from __future__ import annotations

from pathlib import Path

from liangdi_cli.restarting import Backoff, Watched, request_restart, take_requests


def test_consecutive_failures_double_the_wait_up_to_the_cap() -> None:
    backoff = Backoff(first=1.0, cap=30.0, stable_after=60.0)
    assert [backoff.delay(ran_for=0.5) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    # It then ran for two minutes before dying: not a crash loop, the first wait again.
    assert backoff.delay(ran_for=120.0) == 1


def test_a_requested_restart_does_not_wait_nor_grow_the_backoff() -> None:
    watched = Watched(started_at=0.0)
    assert watched.died(now=1.0) == 1.0
    watched.restarted(now=1.0)
    watched.requested = True
    assert watched.died(now=2.0) == 0.0
    assert watched.due == 2.0
    watched.restarted(now=2.0)
    assert watched.requested is False
    assert watched.died(now=2.5) == 2.0  # the crash before it still counts


def test_requests_are_taken_once(tmp_path: Path) -> None:
    assert take_requests(tmp_path) == []
    request_restart(tmp_path, "inflow-310115")
    request_restart(tmp_path, "nats")
    assert take_requests(tmp_path) == ["inflow-310115", "nats"]
    assert take_requests(tmp_path) == []
