"""The steps of `liangdi demo`, each through the services' public HTTP APIs only."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.progress import Progress

from liangdi_cli.client import Api
from shared.validation import make_resident_id
from shared.validation.bounds import china_today

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚"
EMPLOYERS = ["上海建工集团", "浦东物流有限公司", "闵行电子厂", "张江软件园", "虹桥快递站"]


def new_member(rng: random.Random, origin: str) -> dict[str, Any]:
    birth = date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))
    sequence = rng.randint(0, 999)
    return {
        "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        "resident_id": make_resident_id(origin, birth, sequence),
        # The 17th character of the number is odd for men (GB 11643): the record must agree.
        "sex": "male" if sequence % 2 else "female",
        "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
        "origin_branch": f"平邑镇第{rng.randint(1, 30)}村党支部",
        "household_address": f"山东省临沂市平邑县平邑镇{rng.randint(1, 300)}号",
    }


def send_members(
    outflow: Api, origin: str, hosts: list[str], count: int, rng: random.Random, console: Console
) -> dict[str, str]:
    """Registers and departs `count` members; returns origin member id → host place."""
    sent: dict[str, str] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"{origin}: register and depart", total=count)
        while len(sent) < count:
            created = outflow.call(
                "POST", "/api/v1/members", json=new_member(rng, origin), expect=(201, 409)
            )
            if not created or "member_id" not in created:
                continue  # the same random ID number twice: already registered
            host = hosts[len(sent) % len(hosts)]
            departed_on = date.today() - timedelta(days=rng.randint(20, 200))
            outflow.post(
                f"/api/v1/members/{created['member_id']}/departures",
                {
                    "host_place": host,
                    "employer": rng.choice(EMPLOYERS),
                    "host_address": f"上海市某路{rng.randint(1, 999)}号",
                    "reason": "务工",
                    "expected_months": rng.choice([3, 4, 5, 8, 12]),
                    "departed_on": departed_on.isoformat(),
                },
            )
            sent[created["member_id"]] = host
            progress.advance(task)
    console.print(f"{origin}: {count} members registered and departed to {', '.join(hosts)}")
    return sent


def wait_arrivals(
    inflows: dict[str, Api], sent: dict[str, str], timeout: float, console: Console
) -> dict[str, list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    expected = {h: sum(1 for v in sent.values() if v == h) for h in inflows}
    while True:
        mine = {
            h: [m for m in api.all_items("/api/v1/members") if m["origin_member_id"] in sent]
            for h, api in inflows.items()
        }
        if all(len(mine[h]) >= expected[h] for h in inflows) or time.monotonic() > deadline:
            for h in inflows:
                console.print(f"{h}: {len(mine[h])} of {expected[h]} expected arrivals")
            return mine
        time.sleep(0.5)


def report(
    inflows: dict[str, Api],
    arrived: dict[str, list[dict[str, Any]]],
    rng: random.Random,
    console: Console,
) -> dict[str, dict[str, Any]]:
    """Most members report (报到) with their certificate; a few have not yet.
    Returns origin member id → the host's record (with `host` added)."""
    reported: dict[str, dict[str, Any]] = {}
    for host, members in arrived.items():
        for m in members:
            if m["status"] != "expected" or rng.random() < 0.1:
                continue
            on = date.fromisoformat(m["departed_on"]) + timedelta(days=rng.randint(1, 10))
            inflows[host].post(
                f"/api/v1/members/{m['member_id']}/report",
                {
                    "certificate_no": m["certificate_no"],
                    "reported_on": on.isoformat(),
                    "locality": rng.choice(["张江镇", "川沙新镇", "莘庄镇", "七宝镇"]),
                },
            )
            reported[m["origin_member_id"]] = m | {"host": host}
        count = sum(1 for r in reported.values() if r["host"] == host)
        console.print(f"{host}: {count} reported (报到)")
    return reported


def activities(
    inflows: dict[str, Api], reported: dict[str, dict[str, Any]], console: Console
) -> None:
    """Each host holds this month's activity day; every reported member attends (活动全登记)."""
    for host, api in inflows.items():
        attendees = [r["member_id"] for r in reported.values() if r["host"] == host]
        for start in range(0, len(attendees), 500):
            api.post(
                "/api/v1/activities",
                {
                    "kind": "monthly_activity_day",
                    "title": f"{date.today():%Y年%m月}主题党日",
                    "held_on": date.today().isoformat(),
                    "organiser": f"{host}流动党员党委",
                    "attendee_ids": attendees[start : start + 500],
                },
            )
        console.print(f"{host}: activity day with {len(attendees)} attending")


def evaluations(
    outflow: Api,
    inflows: dict[str, Api],
    reported: dict[str, dict[str, Any]],
    year: int,
    per_host: int,
    console: Console,
) -> dict[str, str]:
    """Two-way evaluation (双向互评) for a few members per host; returns member → agreed grade."""
    graded: dict[str, str] = {}
    for host, api in inflows.items():
        members = [(mid, r) for mid, r in reported.items() if r["host"] == host][:per_host]
        for mid, record in members:
            api.post(
                f"/api/v1/members/{record['member_id']}/evaluations",
                {"year": year, "grade": "competent", "comments": "按时参加组织生活"},
            )
            outflow.post(
                f"/api/v1/members/{mid}/assessments/{year}/origin-evaluation",
                {"grade": "competent", "comments": "表现良好"},
            )
            graded[mid] = "competent"
    console.print(f"{len(graded)} members evaluated by both sides for {year}")
    return graded


def conclude(outflow: Api, graded: dict[str, str], year: int, timeout: float) -> int:
    """The origin concludes each year's grade once the host's opinion has arrived."""
    deadline, done = time.monotonic() + timeout, 0
    pending = dict(graded)
    while pending and time.monotonic() < deadline:
        for mid, grade in list(pending.items()):
            view = outflow.get(f"/api/v1/members/{mid}/assessments/{year}")
            if view["host_grade"] is None:
                continue
            outflow.post(
                f"/api/v1/members/{mid}/assessments/{year}/conclusion",
                {"grade": grade, "resolution": ""},
            )
            del pending[mid]
            done += 1
        if pending:
            time.sleep(0.5)
    return done


def payout(
    outflow: Api,
    inflows: dict[str, Api],
    reported: dict[str, dict[str, Any]],
    timeout: float,
    console: Console,
) -> tuple[str, str]:
    """A host sees hardship and asks; the origin reviews, approves, gives public notice, pays once.
    Returns (host, host request id)."""
    today = date.today()
    outflow.call(
        "POST",
        "/api/v1/fund/contributions",
        json={
            "amount_fen": 5_000_000,
            "contributor": "县委组织部专项拨款",
            "received_on": (today - timedelta(days=30)).isoformat(),
        },
        headers={"Idempotency-Key": f"demo-contribution-{today}"},
    )
    mid, record = next(iter(reported.items()))
    host = record["host"]
    created = inflows[host].post(
        f"/api/v1/members/{record['member_id']}/assistance-requests",
        {
            "amount_fen": 200_000,
            "reason": "工伤住院，家庭困难",
            "requested_on": (today - timedelta(days=14)).isoformat(),
        },
    )
    deadline, application = time.monotonic() + timeout, None
    while application is None and time.monotonic() < deadline:
        apps = outflow.get("/api/v1/fund/applications", params={"limit": 500})["items"]
        application = next((a for a in apps if a["member_id"] == mid), None)
        time.sleep(0.3)
    if application is None:
        raise RuntimeError("the host's assistance request never reached the origin")
    path = f"/api/v1/fund/applications/{application['application_id']}"
    steps = [
        ("review", {"note": "材料齐全"}),
        ("approval", {"approved_on": (today - timedelta(days=12)).isoformat()}),
        ("notice", {"notice_from": (today - timedelta(days=11)).isoformat()}),
        ("disbursement", {"paid_on": today.isoformat()}),
    ]
    for step, body in steps:
        if application["status"] in ("rejected", "paid"):
            break
        key = {"Idempotency-Key": f"demo-{step}-{application['application_id']}"}
        outflow.call("POST", f"{path}/{step}", json=body, headers=key)
        outflow.call("POST", f"{path}/{step}", json=body, headers=key)  # a retry pays nothing more
    console.print(f"assistance for a member at {host}: 2,000.00 元 approved and paid once")
    return host, str(created["id"])


def print_certificate(outflow: Api, member_id: str, var_dir: Any, console: Console) -> Any:
    """Prints (to a PDF file) one member's activity certificate (docs/practices.md)."""
    response = outflow.http.get(f"/api/v1/members/{member_id}/certificate.pdf")
    if response.status_code != 200 or not response.content.startswith(b"%PDF"):
        raise RuntimeError(f"certificate of {member_id}: {response.status_code}")
    number = outflow.get(f"/api/v1/members/{member_id}/certificate")["number"]
    path = var_dir / f"certificate-{number}.pdf"
    path.write_bytes(response.content)
    console.print(f"activity certificate {number} printed: {path} ({len(response.content)} bytes)")
    return path


def pioneer_card_and_fixed_day(
    inflows: dict[str, Api], reported: dict[str, dict[str, Any]], var_dir: Any, console: Console
) -> None:
    """At one host: a pioneer card issued, printed and checked in at a community organisation;
    a joint branch's service day set for today and its attendance recorded (docs/practices.md)."""
    host, api = next(iter(inflows.items()))
    here = [r["member_id"] for r in reported.values() if r["host"] == host][:2]
    if len(here) < 2:
        raise RuntimeError(f"{host}: fewer than two members reported, no card or branch to show")
    today = china_today()  # the services' day (Beijing), which a card's issue date is
    name = f"{host}张江镇社区党委"
    organisation = api.call(
        "POST",
        "/api/v1/registered-organisations",
        json={"name": name, "kind": "community"},
        expect=(201, 409),
    )
    if "id" not in organisation:  # a demo run before registered it
        listed = api.get("/api/v1/registered-organisations", params={"limit": 500})["items"]
        organisation = {"id": next(o["organisation_id"] for o in listed if o["name"] == name)}
    card = api.post(f"/api/v1/members/{here[0]}/card", {})
    printable = api.http.get(f"/api/v1/cards/{card['card_no']}/printable.svg")
    path = var_dir / f"pioneer-card-{card['card_no']}.svg"
    path.write_bytes(printable.content)
    api.post(
        "/api/v1/check-ins",
        {
            "card_no": card["card_no"],
            "organisation_id": organisation["id"],
            "held_on": today.isoformat(),
            "title": "社区环境整治志愿服务",
            "kind": "service",
        },
    )
    console.print(f"{host}: pioneer card {card['card_no']} printed ({path}), checked in at {name}")
    branch = api.post(
        "/api/v1/branches",
        {
            "name": f"{host}演示联合党支部{today:%Y%m%d}{here[0][:4]}",
            "kind": "joint",
            "basis": "mixed",
            "member_ids": here,
            "approved_by": "李明",
            "approving_committee": "中共上海市浦东新区委员会组织部",
            "committee_place": host,
            "approved_on": today.isoformat(),
        },
    )["id"]
    days = f"/api/v1/branches/{branch}/fixed-days"
    api.call("PUT", f"{days}/service_day", json={"day_of_month": today.day})
    held = api.post(f"{days}/service_day/{today.isoformat()}/attendance", {"member_ids": here})
    todo = api.get(f"/api/v1/branches/{branch}/to-do")
    console.print(
        f"{host}: service day (党员服务日) on the {today.day}th, {held['attended']} of "
        f"{held['expected']} attending; next: {[d['on'] for d in todo['upcoming']][:1]}"
    )
