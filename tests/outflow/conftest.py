"""Fixtures for the origin county's service: an in-process outflow on its own PostgreSQL schema."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.factories import departure_body, member_body
from tests.support.harness import auth, running, settings_for

ORIGIN = "371326"
HOST = "310115"
OTHER_HOST = "310112"


@pytest.fixture
def writer() -> dict[str, str]:
    return auth("origin_operator", ORIGIN)


@pytest.fixture
def auditor() -> dict[str, str]:
    return auth("auditor")


@pytest.fixture
def outflow_settings(pg_database_url: str) -> Callable[..., Any]:
    """Settings for an outflow on this test's schema; NATS off unless a URL is given."""

    def make(nats_url: str | None = None, **overrides: Any) -> Any:
        return settings_for(
            "outflow",
            pg_database_url,
            nats_url or "nats://127.0.0.1:1",
            ORIGIN,
            sync_enabled=nats_url is not None,
            **overrides,
        )

    return make


@pytest.fixture
def client(outflow_settings: Callable[..., Any]) -> Iterator[TestClient]:
    with running("outflow", outflow_settings()) as c:
        yield c


class Api:
    """Small helpers over the public HTTP API."""

    def __init__(self, client: TestClient, headers: dict[str, str], seed: int = 1):
        self.c, self.h, self.rng = client, headers, random.Random(seed)
        self._keys = 0

    def register(self, **overrides: Any) -> str:
        r = self.c.post("/api/v1/members", json=member_body(self.rng) | overrides, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()["member_id"]

    def depart(self, member_id: str, host: str = HOST, on: str = "2026-03-01", **kw: Any) -> Any:
        body = departure_body(host, self.rng) | {"departed_on": on} | kw
        return self.c.post(f"/api/v1/members/{member_id}/departures", json=body, headers=self.h)

    def departed(self, host: str = HOST, on: str = "2026-03-01") -> str:
        member_id = self.register()
        r = self.depart(member_id, host, on)
        assert r.status_code == 201, r.text
        return member_id

    def member(self, member_id: str) -> dict[str, Any]:
        r = self.c.get(f"/api/v1/members/{member_id}", headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()

    def key(self) -> dict[str, str]:
        self._keys += 1
        return self.h | {"Idempotency-Key": f"test-key-{self.rng.random()}-{self._keys}"}

    def fund_post(self, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        headers = self.h | {"Idempotency-Key": key} if key else self.key()
        return self.c.post(f"/api/v1/fund{path}", json=body, headers=headers)


@pytest.fixture
def api(client: TestClient, writer: dict[str, str]) -> Api:
    return Api(client, writer)


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]
