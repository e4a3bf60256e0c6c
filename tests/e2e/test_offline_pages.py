"""Every page of the three services works on a network without internet access: a real browser
that may reach only the services renders Swagger UI (`/docs`), ReDoc (`/redoc`) and the
operators' pages, and asks nothing of any other host. The origin's and the host's own pages
show their place by name and the counts their own API gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.stack import HOST, ORIGIN, browser, depart_one, exchange
from tests.support.harness import auth, token, wait_until


def offline_page(chromium: Any, elsewhere: list[str]) -> Any:
    """A page whose every request to a host other than this machine fails (and is recorded)."""
    page = chromium.new_page()

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    return page


def members(service_url: str, headers: dict[str, str], status: str) -> int:
    answer = httpx.get(f"{service_url}/api/v1/members?status={status}&limit=1", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


@pytest.mark.e2e
def test_docs_and_pages_load_nothing_from_elsewhere(
    postgres_url: str, pg_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    with exchange(postgres_url, pg_database_url, nats_url, tmp_path) as stack:
        depart_one(stack.origin)
        elsewhere: list[str] = []
        with browser() as chromium:
            page = offline_page(chromium, elsewhere)
            for service in (stack.sync, stack.origin, stack.host):
                title = httpx.get(f"{service.url}/openapi.json").json()["info"]["title"]
                page.goto(f"{service.url}/docs")
                page.locator(".swagger-ui .info .title", has_text=title).wait_for(timeout=20_000)
                assert page.locator(".swagger-ui .opblock").count() > 3  # the operations drawn
                page.goto(f"{service.url}/redoc")
                page.locator("h1", has_text=title).first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "redoc.png"))

            # The origin county's own page: its name, its read models, its members by status.
            origin_auth = auth("origin_operator", ORIGIN)
            page.goto(f"{stack.origin.url}/dashboard")
            page.fill("#token", token("origin_operator", ORIGIN))
            page.click("#watch")
            page.locator("#where", has_text="平邑县 371326").wait_for(timeout=20_000)
            assert "流出地（户籍地县）服务" in page.locator("#where").inner_text()
            page.locator("#read-models tbody tr", has_text="成员名册").wait_for(timeout=20_000)
            departed = page.locator("#counts tbody tr", has_text="外出")
            departed.wait_for(timeout=20_000)
            wanted = members(stack.origin.url, origin_auth, "departed")
            assert wanted == 1
            assert departed.locator("td").nth(1).inner_text() == str(wanted)
            ready = page.locator("#readiness tbody tr td").first
            assert ready.inner_text() == "就绪"
            page.screenshot(path=str(tmp_path / "origin.png"), full_page=True)
            # The exchange's admin sees the read models, not the members.
            page.fill("#token", token("sync_admin"))
            page.click("#watch")
            page.locator("#read-models tbody tr", has_text="成员名册").wait_for(timeout=20_000)
            wait_until(
                lambda: page.locator("#status").inner_text().startswith("已更新"),
                timeout=10,
                message="the page updated for the sync admin",
            )
            assert page.locator("#counts tbody tr").count() == 0

            # The host district's own page: the member it expects.
            host_auth = auth("host_operator", HOST)
            wait_until(
                lambda: members(stack.host.url, host_auth, "expected") == 1,
                timeout=20,
                message="the member expected at the host",
            )
            page.goto(f"{stack.host.url}/dashboard")
            page.fill("#token", token("host_operator", HOST))
            page.click("#watch")
            page.locator("#where", has_text="浦东新区 310115").wait_for(timeout=20_000)
            expected = page.locator("#counts tbody tr", has_text="待报到")
            expected.wait_for(timeout=20_000)
            assert expected.locator("td").nth(1).inner_text() == "1"
            # A token of the other place: refused, and the page forgets what it showed.
            page.fill("#token", token("origin_operator", ORIGIN))
            page.click("#watch")
            wait_until(
                lambda: page.locator("#status").inner_text().startswith("令牌被拒绝"),
                timeout=10,
                message="the refusal shown",
            )
            assert page.locator("#counts tbody tr").count() == 0

            page.goto(f"{stack.sync.url}/dashboard")
            page.locator("h1", has_text="数据交换运维看板").wait_for(timeout=10_000)
        assert elsewhere == [], f"requests to other hosts: {elsewhere[:5]}"
