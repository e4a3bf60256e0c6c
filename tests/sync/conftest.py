"""Fixtures of the sync tests: several schemas per test (each place owns its database)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.backends import drop_schema


@pytest.fixture
def schema_url(postgres_url: str, pg_database_url: str) -> Iterator[Callable[[str], str]]:
    """`schema_url("o")` is a database URL of its own for this test; all dropped afterwards."""
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    made: list[str] = []

    def url(suffix: str) -> str:
        made.append(f"{schema}_{suffix}")
        return f"{base}?schema={schema}_{suffix}"

    yield url
    for name in made:
        drop_schema(postgres_url, name)
