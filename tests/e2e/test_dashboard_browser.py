"""An operator opens the dashboard in a real browser (Debian's chromium), types a token, and sees
the live link between an origin and a host that real service processes are exchanging over (in
Chinese, the page's default; tests/e2e/test_dashboard_actions.py covers the actions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.stack import browser, depart_one, exchange
from tests.support.harness import token, wait_until


@pytest.mark.e2e
def test_operator_watches_a_live_link_in_the_browser(
    postgres_url: str, pg_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    with exchange(postgres_url, pg_database_url, nats_url, tmp_path) as stack:
        depart_one(stack.origin)
        with browser() as chromium:
            page = chromium.new_page()
            page.goto(f"{stack.sync.url}/dashboard")
            assert page.locator("#status").inner_text() == "未连接。"
            page.fill("#token", token("auditor"))
            page.click("button[type=submit]")
            row = page.locator("#links tbody tr", has_text="平邑县 371326").filter(
                has_text="浦东新区 310115"
            )
            row.first.wait_for(timeout=20_000)

            def applied() -> bool:
                cells = row.first.locator("td").all_inner_texts()
                running = cells[0] == "流出地 → 流入地" and cells[3] == "正常"
                return running and int(cells[5] or 0) >= 1

            wait_until(applied, timeout=20, message="the link running with the fact applied")
            assert page.locator("#status").inner_text().startswith("已更新")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
