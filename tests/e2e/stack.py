"""The three services as real processes (an origin, a host, the exchange) and Debian's chromium,
for the browser tests of the operators' pages."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.backends import drop_schema, free_port, unavailable
from tests.support.factories import departure_body, member_body
from tests.support.harness import ServiceProcess, auth

ORIGIN, HOST = "371326", "310115"  # 平邑县 (Shandong), 浦东新区 (Shanghai)
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Stack:
    sync: ServiceProcess
    origin: ServiceProcess
    host: ServiceProcess


@contextmanager
def exchange(
    postgres_url: str, pg_database_url: str, nats_url: str, tmp_path: Path
) -> Iterator[Stack]:
    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    common = {"LIANGDI_NATS_URL": nats_url, "LIANGDI_POLL_INTERVAL": "0.1"}
    stack = Stack(
        ServiceProcess(
            "sync",
            free_port(),
            common | {"LIANGDI_DATABASE_URL": f"sqlite:///{tmp_path / 'sync.db'}"},
            tmp_path,
        ),
        ServiceProcess(
            "outflow",
            free_port(),
            common | {"LIANGDI_PLACE": ORIGIN, "LIANGDI_DATABASE_URL": f"{base}?schema={schema}_o"},
            tmp_path,
        ),
        ServiceProcess(
            "inflow",
            free_port(),
            common | {"LIANGDI_PLACE": HOST, "LIANGDI_DATABASE_URL": f"{base}?schema={schema}_h"},
            tmp_path,
        ),
    )
    services = [stack.sync, stack.origin, stack.host]
    try:
        for service in services:
            service.start()
        yield stack
    finally:
        for service in services:
            service.stop()
        for suffix in ("_o", "_h"):
            drop_schema(postgres_url, schema + suffix)


def depart_one(origin: ServiceProcess, seed: int = 5) -> str:
    """A member registered at the origin who leaves for the host: facts on the o2h link."""
    headers, rng = auth("origin_operator", ORIGIN), random.Random(seed)
    member = httpx.post(f"{origin.url}/api/v1/members", json=member_body(rng), headers=headers)
    assert member.status_code == 201, member.text
    member_id = member.json()["member_id"]
    departed = httpx.post(
        f"{origin.url}/api/v1/members/{member_id}/departures",
        json=departure_body(HOST, rng),
        headers=headers,
    )
    assert departed.status_code == 201, departed.text
    return member_id


@contextmanager
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable("chromium (Debian package; scripts/ensure-backends.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()
