"""Fixtures of the fault suite: an exchange of real processes per scenario, cleaned up after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.places import Exchange
from tests.faults.scenario import RESULTS, SOAK

SOAK_TIMEOUT = 3600


@pytest.fixture
def exchange_of(postgres_url: str, tmp_path: Path) -> Iterator[Callable[..., Exchange]]:
    """`exchange_of(nats_url, **env)`: origin, host and sync processes on fresh schemas."""
    made: list[Exchange] = []

    def make(nats_url: str, sqlite: bool = False, **env: str) -> Exchange:
        made.append(Exchange(postgres_url, nats_url, tmp_path / "logs", sqlite, **env))
        return made[-1]

    yield make
    for exchange in made:
        exchange.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The soak runs for many minutes per scenario: beyond the suite's default per-test timeout.
    if SOAK:
        for item in items:
            if "tests/faults/" in str(item.path).replace("\\", "/"):
                item.add_marker(pytest.mark.timeout(SOAK_TIMEOUT))


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if RESULTS:
        terminalreporter.section("fault suite figures")
        for line in RESULTS:
            terminalreporter.write_line(line)
