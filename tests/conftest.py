"""Shared fixtures: real PostgreSQL (one schema per test) and real nats-server processes.

The nats-servers are closed as in every runnable setup (tests/support/backends.py): anonymous
clients are refused, services get their own users from `settings_for`, and the URL the fixtures
give carries the test admin's credentials for the test's own raw clients (`nats.connect(url)`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import (
    NatsServer,
    drop_schema,
    postgres_base_url,
    postgres_reachable,
    unavailable,
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url, container = postgres_base_url()
    try:
        if not postgres_reachable(url):
            unavailable(f"PostgreSQL at {url}")
        yield url
    finally:
        if container is not None:
            container.stop()  # type: ignore[attr-defined]


@pytest.fixture
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A database URL whose schema belongs to this test alone."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{postgres_url.split('?')[0]}?schema={schema}"
    drop_schema(postgres_url, schema)


@pytest.fixture
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A NATS URL of this test's own: a fresh nats-server (it starts in a blink).

    Not shared across tests on purpose: the places' durable consumers are named after the place,
    and a test's unacknowledged leftovers would otherwise reach the next test's empty store."""
    if url := os.environ.get("LIANGDI_TEST_NATS_URL"):
        yield url
        return
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    yield server.url
    server.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, which the test may stop and restart."""
    server = NatsServer(tmp_path / "nats").start()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Markers follow the fixtures a test uses, so `-m "postgres or nats"` selects them all.
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & {"postgres_url", "pg_database_url"}:
            item.add_marker(pytest.mark.postgres)
        if fixtures & {"nats_url", "nats_server"}:
            item.add_marker(pytest.mark.nats)
