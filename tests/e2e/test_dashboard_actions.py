"""An exchange operator works in the dashboard in a real browser (Debian's chromium) against real
service processes: reads it in Chinese with place names, retries and discards dead letters,
pauses and resumes a link, pauses a receiver and replays into it, runs an anti-entropy check,
switches to English, and sees the page forget its data when the token is refused. Every action
is checked at the service through its admin API, not on the page alone."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from shared.messaging.topology import event_subject
from tests.e2e.stack import HOST, ORIGIN, browser, depart_one, exchange
from tests.support.harness import auth, token, wait_until

ADMIN = auth("sync_admin")
LINK = f"o2h/{ORIGIN}/{HOST}"
# Raw API values that must never be on screen: each has a label in the page's dictionary.
RAW = ["o2h", "h2o", "running", "catching_up", "malformed", "awaiting_both", "receiver", "inflow"]


async def publish_garbage(nats_url: str, count: int) -> None:
    """Messages the host cannot read: the host dead-letters them, the exchange stores them."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for n in range(count):
        await js.publish(
            event_subject("o2h", ORIGIN, HOST, f"drill-{n}"),
            b'{"specversion": "1.0", "drill": true}',
            headers={"Nats-Msg-Id": f"drill-{n}"},
        )
    await nc.close()


def get(sync_url: str, path: str) -> Any:
    response = httpx.get(f"{sync_url}{path}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def the_link(sync_url: str) -> dict[str, Any]:
    links = get(sync_url, "/admin/links")["links"]
    return next(
        item for item in links if (item["direction"], item["from_place"], item["to_place"]) == (
            "o2h", ORIGIN, HOST)
    )  # fmt: skip


@pytest.mark.e2e
def test_operator_acts_from_the_dashboard(
    postgres_url: str, pg_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    with exchange(postgres_url, pg_database_url, nats_url, tmp_path) as stack:
        sync = stack.sync.url
        depart_one(stack.origin)
        asyncio.run(publish_garbage(nats_url, 2))
        wait_until(
            lambda: get(sync, "/admin/dead-letters?state=open")["total"] == 2,
            timeout=20,
            message="two dead letters at the exchange",
        )
        wait_until(lambda: the_link(sync)["applied"] >= 1, timeout=20, message="a fact applied")

        with browser() as chromium:
            page = chromium.new_page()
            page.goto(f"{sync}/dashboard")
            # Chinese by default, before any token.
            assert page.locator("h1").inner_text() == "两地共管 · 数据交换运维看板"
            assert page.locator("#status").inner_text() == "未连接。"
            page.fill("#token", token("sync_admin"))
            page.click("#watch")

            # The link, with place names beside codes and labels for every value.
            row = page.locator("#links tbody tr", has_text="平邑县 371326").filter(
                has_text="浦东新区 310115"
            )
            row.first.wait_for(timeout=20_000)
            cells = row.first.locator("td")
            assert cells.nth(0).inner_text() == "流出地 → 流入地"
            wait_until(lambda: cells.nth(3).inner_text() == "正常", timeout=20, message="正常")
            assert cells.nth(1).locator(".place").get_attribute("title") == "山东省临沂市平邑县"
            letters = page.locator("#dead-letters tbody tr")
            wait_until(lambda: letters.count() == 2, timeout=10, message="two dead letters shown")
            assert letters.first.locator("td").nth(1).inner_text() == "格式错误"
            # The charts drew a line per link from the page's own samples.
            wait_until(
                lambda: (
                    page.locator("#throughput-chart polyline").count() >= 1
                    and page.locator("#lag-chart polyline").count() >= 1
                ),
                timeout=10,
                message="both charts drawn",
            )
            shown = page.locator("main").inner_text()
            for raw in RAW:
                found = re.search(rf"\b{raw}\b", shown)
                assert not found, f"{raw!r} on screen: {shown[max(found.start() - 80, 0) :][:200]}"

            # Discard the second one, with a reason: kept at the exchange with who and why.
            first = letters.nth(0).get_attribute("data-id")
            other = page.locator(f"#dead-letters tbody tr:not([data-id='{first}'])").first
            second = other.get_attribute("data-id")
            assert second and second != first
            other.locator("button.discard").click()  # no reason yet: refused on the page
            wait_until(
                lambda: (
                    page.locator("#notice").inner_text() == "操作失败：请写明原因（至少 3 个字）。"
                ),
                timeout=5,
                message="a discard without a reason refused on the page",
            )
            assert get(sync, f"/admin/dead-letters/{second}")["state"] == "open"
            why = page.locator(f"#dead-letters tbody tr[data-id='{second}'] input.why")
            why.fill("演练消息")

            # Meanwhile the first is retried: the exchange records it, and the list is redrawn
            # without it. What was typed into the second row is still there.
            letters.nth(0).locator("button.retry").click()
            wait_until(
                lambda: get(sync, f"/admin/dead-letters/{first}")["state"] == "retried",
                timeout=15,
                message="retried at the exchange",
            )
            wait_until(
                lambda: first in page.locator("#notice").inner_text(), timeout=5, message="told"
            )
            wait_until(
                lambda: page.locator(f"#dead-letters tbody tr[data-id='{first}']").count() == 0,
                timeout=10,
                message="the list redrawn without the retried one",
            )
            assert why.input_value() == "演练消息"
            page.locator(f"#dead-letters tbody tr[data-id='{second}'] button.discard").click()

            def discarded() -> bool:
                letter = get(sync, f"/admin/dead-letters/{second}")
                return letter["state"] == "discarded" and letter["discard_reason"] == "演练消息"

            wait_until(discarded, timeout=15, message="discarded at the exchange")

            # Pause the link, then resume it.
            row.first.get_by_role("button", name="暂停").click()
            wait_until(lambda: the_link(sync)["paused"] == "link", timeout=15, message="paused")
            wait_until(
                lambda: cells.nth(3).inner_text() == "已暂停（本链路）", timeout=10, message="shown"
            )

            # The table is redrawn at every refresh (every 2 s: the counters move). The
            # operator's press and release on 恢复 straddle a refresh, and the click still counts:
            # the row and its button are updated in place, never replaced under the pointer (a
            # press on one node and a release on its replacement is no click at all).
            resume = row.first.get_by_role("button", name="恢复")
            resume.wait_for(timeout=10_000)
            resume.evaluate("b => { b.dataset.pressed = 'yes'; }")
            resume.scroll_into_view_if_needed()
            box = resume.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            with page.expect_response(lambda r: "/admin/links" in r.url, timeout=10_000):
                pass  # the next refresh's read of the links
            page.wait_for_timeout(500)  # and its redraw
            assert row.first.locator("button[data-pressed]").count() == 1, "button replaced"
            page.mouse.up()
            wait_until(lambda: the_link(sync)["paused"] is None, timeout=15, message="resumed")

            # Replay into the host's receiver: refused while it runs, done once it is paused.
            receiver = page.locator("#receivers tbody tr", has_text="流入地服务 浦东新区 310115")
            receiver.locator("input.sequence").fill("1")
            receiver.locator("button.replay").click()
            wait_until(
                lambda: "link.not_paused" in page.locator("#notice").inner_text(),
                timeout=15,
                message="a replay into a running receiver refused",
            )
            # Typed before the pause: the row redrawn as paused keeps it (a redraw between
            # typing and clicking had wiped it, and the replay was refused on the page).
            receiver.locator("input.sequence").fill("1")
            receiver.locator("button.pause").click()
            wait_until(
                lambda: the_link(sync)["paused"] == "receiver", timeout=15, message="rx paused"
            )
            wait_until(
                lambda: receiver.locator("button.resume").count() == 1,
                timeout=10,
                message="the page shows the receiver paused",
            )
            assert receiver.locator("input.sequence").input_value() == "1"
            receiver.locator("button.replay").click()
            wait_until(
                lambda: "已从序号 1 重放" in page.locator("#notice").inner_text(),
                timeout=30,
                message="the replay done",
            )
            wait_until(
                lambda: the_link(sync)["paused"] is None,
                timeout=15,
                message="the replay resumed the receiver",
            )

            # An anti-entropy run: its result on the page is the exchange's latest run.
            page.select_option("#ae-mode", "report")
            page.click("#ae-run")
            summary = page.locator("#ae-summary[data-run]")
            summary.wait_for(timeout=30_000)
            latest = get(sync, "/admin/antientropy/runs/latest")
            assert latest["links"], f"the run checked no link: {latest['errors']}"
            assert summary.get_attribute("data-run") == latest["run_id"]
            assert ("两端一致" if latest["agreed"] else "发现差异") in summary.inner_text()
            assert page.locator("#ae-links tbody tr").count() == len(latest["links"]) >= 1
            page.screenshot(path=str(tmp_path / "dashboard-acting.png"), full_page=True)

            # English on request, kept across a reload.
            page.click("#language")
            assert page.locator("h1").inner_text() == "liangdi · exchange operations"
            page.reload()
            row.first.wait_for(timeout=20_000)
            assert cells.nth(0).inner_text() == "origin → host"
            assert page.locator("html").get_attribute("lang") == "en"
            page.click("#language")
            assert page.locator("h1").inner_text() == "两地共管 · 数据交换运维看板"

            # An auditor reads but is offered no action.
            page.fill("#token", token("auditor"))
            page.click("#watch")
            row.first.wait_for(timeout=20_000)
            assert page.locator("#links tbody tr button").first.is_hidden()
            assert page.locator("#antientropy").is_hidden()

            # A refused token: nothing stale stays on screen.
            page.fill("#token", token("auditor", secret="another-secret-of-32-bytes-or-more!!"))
            page.click("#watch")
            wait_until(
                lambda: page.locator("#status").inner_text().startswith("令牌被拒绝"),
                timeout=10,
                message="the refusal shown",
            )
            assert page.locator("#links tbody tr").count() == 0
            assert page.locator("#dead-letters tbody tr").count() == 0
            assert page.locator("#throughput-chart polyline").count() == 0
            assert page.locator("#ae-summary").inner_text() == "尚未运行。"
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
