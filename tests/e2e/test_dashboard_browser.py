"""An operator opens the dashboard in a real browser (Debian's chromium), types a token, and sees
the live link between an origin and a host that real service processes are exchanging over."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from tests.support.backends import drop_schema, free_port, unavailable
from tests.support.factories import departure_body, member_body
from tests.support.harness import ServiceProcess, auth, token, wait_until

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


@pytest.mark.e2e
def test_operator_watches_a_live_link_in_the_browser(
    postgres_url: str, pg_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        unavailable("chromium (Debian package; scripts/ensure-backends.sh installs it)")
    from playwright.sync_api import sync_playwright

    base, schema = pg_database_url.split("?")[0], pg_database_url.split("schema=")[1]
    common = {"LIANGDI_NATS_URL": nats_url, "LIANGDI_POLL_INTERVAL": "0.1"}
    services = [
        ServiceProcess(
            "sync",
            free_port(),
            common | {"LIANGDI_DATABASE_URL": f"sqlite:///{tmp_path / 'sync.db'}"},
            tmp_path,
        ),
        ServiceProcess(
            "outflow",
            free_port(),
            common
            | {"LIANGDI_PLACE": "371326", "LIANGDI_DATABASE_URL": f"{base}?schema={schema}_o"},
            tmp_path,
        ),
        ServiceProcess(
            "inflow",
            free_port(),
            common
            | {"LIANGDI_PLACE": "310115", "LIANGDI_DATABASE_URL": f"{base}?schema={schema}_h"},
            tmp_path,
        ),
    ]
    try:
        for service in services:
            service.start()
        sync, origin = services[0], services[1]
        o_auth, rng = auth("origin_operator", "371326"), random.Random(5)
        member = httpx.post(f"{origin.url}/api/v1/members", json=member_body(rng), headers=o_auth)
        member_id = member.json()["member_id"]
        departed = httpx.post(
            f"{origin.url}/api/v1/members/{member_id}/departures",
            json=departure_body("310115", rng),
            headers=o_auth,
        )
        assert departed.status_code == 201, departed.text

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            page = browser.new_page()
            page.goto(f"{sync.url}/dashboard")
            assert page.locator("#status").inner_text() == "Not connected."
            page.fill("#token", token("auditor"))
            page.click("button[type=submit]")
            row = page.locator("#links tbody tr", has_text="371326").filter(has_text="310115")
            row.first.wait_for(timeout=20_000)

            def applied() -> bool:
                cells = row.first.locator("td").all_inner_texts()
                return cells[0] == "o2h" and cells[3] == "running" and int(cells[5] or 0) >= 1

            wait_until(applied, timeout=20, message="the link running with the fact applied")
            assert page.locator("#status").inner_text().startswith("Updated")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            browser.close()
    finally:
        for service in services:
            service.stop()
        for suffix in ("_o", "_h"):
            drop_schema(postgres_url, schema + suffix)
