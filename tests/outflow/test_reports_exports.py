"""The county leadership's report and exports (花名册, fund ledger, evaluations): figures checked
exactly against members seeded through the API (host facts over a real NATS), files parsed back
with csv and openpyxl, names masked for an auditor, and `liangdi export` against a real process."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from liangdi_cli.main import app as cli
from services.outflow.adapters.export_rows import Sheet
from services.outflow.adapters.spreadsheets import csv_chunks, write_xlsx
from services.outflow.domain.report_period import Period
from shared.contracts.events import (
    ActivityAttended,
    BranchAssigned,
    HostEvaluated,
    MemberReported,
    ReportingOverdue,
)
from shared.validation import mask_name
from tests.outflow.conftest import HOST, ORIGIN, OTHER_HOST, Api
from tests.outflow.hostside import HostSide
from tests.support.backends import NatsServer, free_port
from tests.support.factories import departure_body, member_body
from tests.support.harness import ServiceProcess, auth, running, token, wait_until

BRANCH = "张江流动党员支部"
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}
ROSTER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "原所在党组织",
    "状态",
    "流入地",
    "流入地党组织",
    "务工经商单位",
    "外出日期",
    "预计外出月数",
    "流动党员活动证号",
    "报到日期",
    "最近联系日期",
    "最近核查日期",
]
LEDGER = [
    "序号",
    "日期",
    "类别",
    "金额（元）",
    "余额（元）",
    "其中预留（元）",
    "捐助方",
    "救助对象",
    "救助事由",
    "记录人",
    "记录时间",
]


def ids(member_id: str, host: str = HOST) -> dict[str, str]:
    return {"member_id": member_id, "origin_place": ORIGIN, "host_place": host}


@pytest.fixture
def linked(
    outflow_settings: Callable[..., Any], nats_server: NatsServer, writer: dict[str, str]
) -> Iterator[tuple[Api, HostSide]]:
    with running("outflow", outflow_settings(nats_server.url)) as c:
        wait_until(lambda: c.get("/readyz").json().get("nats") == "connected")
        yield Api(c, writer, seed=13), HostSide(nats_server.url)


def post(api: Api, path: str, body: dict[str, Any]) -> Any:
    r = api.c.post(f"/api/v1{path}", json=body, headers=api.h)
    assert r.status_code in (200, 201), r.text
    return r.json()


def fund(api: Api, path: str, body: dict[str, Any]) -> Any:
    r = api.fund_post(path, body)
    assert r.status_code in (200, 201), r.text
    return r.json()


def seed(api: Api, host: HostSide) -> dict[str, str]:
    """Four members mobile in the first half of 2026, one at home, one who left after it."""
    names = {}

    def member(key: str) -> str:
        body = member_body(api.rng)
        member_id = api.register(**body)
        names[member_id] = body["name"]
        names[key] = member_id
        return member_id

    a, b, c, d = member("a"), member("b"), member("c"), member("d")
    member("home")
    later = member("later")
    for member_id, place, on in (
        (a, HOST, "2026-01-10"),
        (b, HOST, "2026-03-10"),
        (c, OTHER_HOST, "2025-06-01"),
        (d, HOST, "2025-01-10"),
        (later, HOST, "2026-07-15"),
    ):
        r = api.depart(member_id, place, on)
        assert r.status_code == 201, r.text

    # The origin's own records first (a host fact arriving meanwhile would make them retry).
    # a: dues, checked in Q2; b: an activity the origin recorded, checked in Q1 without
    # reaching the member; c: flagged lost; d: no contact since leaving in 2025 (a candidate).
    verify = {"file_ok": True, "address_ok": True}
    post(api, f"/members/{a}/contacts", {"kind": "dues", "on": "2026-02-20"})
    post(
        api,
        f"/members/{a}/verifications",
        verify | {"checked_on": "2026-04-20", "contact_ok": True},
    )
    post(api, f"/members/{b}/contacts", {"kind": "activity", "on": "2026-06-01"})
    post(
        api,
        f"/members/{b}/verifications",
        verify | {"checked_on": "2026-03-20", "contact_ok": False},
    )
    post(api, f"/members/{c}/lost", {"reason_code": "went_abroad", "on": "2026-01-15"})

    # The host's facts: a reported, joined the branch, attended two activities and was
    # evaluated; b was noted overdue and joined the branch.
    cert = api.member(a)["certificate_no"]
    host.send(MemberReported(**ids(a), reported_on=date(2026, 3, 5), certificate_no=cert), a)
    host.send(BranchAssigned(**ids(a), branch_id="b1", branch_name=BRANCH), a)
    for n, held_on in enumerate((date(2026, 4, 10), date(2026, 5, 12))):
        activity = ActivityAttended(
            **ids(a),
            activity_id=f"act-{n}",
            kind="monthly_activity_day",
            title="主题党日",
            held_on=held_on,
            organiser="张江",
        )
        host.send(activity, a)
    host.send(HostEvaluated(**ids(a), year=2026, grade="competent", attendance_count=2), a)
    host.send(ReportingOverdue(**ids(b), due_on=date(2026, 3, 31)), b)
    host.send(BranchAssigned(**ids(b), branch_id="b1", branch_name=BRANCH), b)

    def host_facts_in() -> bool:
        ra, rb = api.member(a), api.member(b)
        return (
            ra["last_contact_on"] == "2026-05-12"
            and rb["host_branch"] == BRANCH
            and rb["reporting_overdue_since"] == "2026-03-31"
        )

    wait_until(host_facts_in, message="host facts applied")
    wait_until(
        lambda: (
            api.c.get(f"/api/v1/members/{a}/assessments/2026", headers=api.h).status_code == 200
        ),
        message="host evaluation applied",
    )
    post(api, f"/members/{a}/assessments/2026/origin-evaluation", {"grade": "competent"})
    post(api, f"/members/{a}/assessments/2026/conclusion", {"grade": "competent"})
    post(api, f"/members/{d}/assessments/2026/origin-evaluation", {"grade": "excellent"})

    # The fund: 1,000 yuan before the period, 500 in it, 300 paid to a in it.
    fund(
        api,
        "/contributions",
        {"amount_fen": 100_000, "contributor": "县财政", "received_on": "2025-12-01"},
    )
    fund(
        api,
        "/contributions",
        {"amount_fen": 50_000, "contributor": "爱心企业", "received_on": "2026-03-01"},
    )
    application = fund(
        api,
        "/applications",
        {"member_id": a, "amount_fen": 30_000, "reason": "因病住院", "requested_on": "2026-03-02"},
    )["application_id"]
    fund(api, f"/applications/{application}/review", {})
    fund(api, f"/applications/{application}/approval", {"approved_on": "2026-03-03"})
    fund(api, f"/applications/{application}/notice", {"notice_from": "2026-03-04"})
    fund(api, f"/applications/{application}/disbursement", {"paid_on": "2026-03-12"})
    return names


def report(api: Api, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = api.c.get("/api/v1/reports/leadership", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_report_figures_and_exports(linked: tuple[Api, HostSide], auditor: dict[str, str]) -> None:
    api, host = linked
    names = seed(api, host)
    a, b, c, d = names["a"], names["b"], names["c"], names["d"]
    wait_until(
        lambda: report(api, api.h, **PERIOD)["fund"]["disbursements"] == 1,
        message="fund read model",
    )
    got = report(api, api.h, **PERIOD)

    assert got["period"] == {"from": "2026-01-01", "to": "2026-06-30", "as_of": "2026-06-30"}
    assert got["mobile"] == 4
    assert got["members_by_host"] == [
        {
            "host_place": HOST,
            "host_place_name": "浦东新区",
            "mobile": 3,
            "departed": 3,
            "lost": 0,
            "suspended": 0,
            "departed_in_period": 2,
        },
        {
            "host_place": OTHER_HOST,
            "host_place_name": "闵行区",
            "mobile": 1,
            "departed": 0,
            "lost": 1,
            "suspended": 0,
            "departed_in_period": 0,
        },
    ]
    reporting = got["reporting"]
    assert (reporting["mobile"], reporting["reported"], reporting["rate"]) == (4, 1, 0.25)
    assert [(o["member_id"], o["name"], o["overdue_since"]) for o in reporting["overdue"]] == [
        (b, names[b], "2026-03-31")
    ]
    assert got["verification"] == [
        {"quarter": "2026Q1", "due": 4, "verified": 1, "rate": 0.25},
        {"quarter": "2026Q2", "due": 4, "verified": 1, "rate": 0.25},
    ]
    contact = got["contact"]
    assert (contact["mobile"], contact["contacted"], contact["coverage"]) == (4, 2, 0.5)
    assert [(x["member_id"], x["status"], x["lost_on"]) for x in contact["lost_contact"]] == [
        (c, "lost", "2026-01-15"),
        (d, "candidate", None),
    ]
    assert got["activity"] == [
        {
            "host_place": OTHER_HOST,
            "host_branch": None,
            "members": 1,
            "attendances": 0,
            "attendees": 0,
            "rate": 0.0,
        },
        {
            "host_place": HOST,
            "host_branch": None,
            "members": 1,
            "attendances": 0,
            "attendees": 0,
            "rate": 0.0,
        },
        {
            "host_place": HOST,
            "host_branch": BRANCH,
            "members": 2,
            "attendances": 3,
            "attendees": 2,
            "rate": 1.0,
        },
    ]
    assert got["evaluations"] == [
        {
            "year": 2026,
            "total": 2,
            "by_state": {"concluded": 1, "origin_evaluated": 1},
            "by_grade": {"competent": 1, "none": 1},
        }
    ]
    assert got["fund"] == {
        "opening_balance_fen": 100_000,
        "contributed_fen": 50_000,
        "contributions": 1,
        "disbursed_fen": 30_000,
        "disbursements": 1,
        "closing_balance_fen": 120_000,
        "balance_now_fen": 120_000,
        "reserved_now_fen": 0,
    }

    # A quarter: Q1 alone; a report for an auditor masks every name in its lists.
    q1 = report(api, api.h, year=2026, quarter=1)
    assert q1["period"]["to"] == "2026-03-31"
    assert q1["contact"]["contacted"] == 1  # a's dues and report; the activities came later
    assert q1["fund"]["closing_balance_fen"] == 120_000
    audited = report(api, auditor, **PERIOD)
    assert [o["name"] for o in audited["reporting"]["overdue"]] == [mask_name(names[b])]
    assert [x["name"] for x in audited["contact"]["lost_contact"]] == [
        mask_name(names[c]),
        mask_name(names[d]),
    ]
    bad = api.c.get(
        "/api/v1/reports/leadership",
        params={"from": "2026-06-01", "to": "2026-01-01"},
        headers=api.h,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "report.order"

    # The roster as CSV for the operator: BOM, Chinese headers, full names, masked ID numbers.
    r = api.c.get("/api/v1/reports/exports/roster", params=PERIOD, headers=api.h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="roster-371326-20260101-20260630.csv"')
    assert "filename*=UTF-8''" in disposition
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ROSTER
    by_name = {row[1]: row for row in rows[1:]}
    assert sorted(by_name) == sorted(names[m] for m in (a, b, c, d))
    row_a = by_name[names[a]]
    assert row_a[6] == "外出流动" and row_a[7] == f"浦东新区 {HOST}" and row_a[8] == BRANCH
    assert row_a[10] == "2026-01-10" and row_a[13] == "2026-03-05"
    assert re.fullmatch(r"3713\*{10}[0-9X]{4}", row_a[3]) and re.fullmatch(
        r"1\d\d\*{4}\d{4}", row_a[4]
    )
    assert by_name[names[c]][6] == "失联"
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4"]

    # The roster as XLSX for an auditor: the same rows, every name masked.
    r = api.c.get(
        "/api/v1/reports/exports/roster", params=PERIOD | {"format": "xlsx"}, headers=auditor
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-export-rows"] == "4"
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == ROSTER and len(cells) == 5
    assert sorted(row[1] for row in cells[1:]) == sorted(mask_name(names[m]) for m in (a, b, c, d))
    flat = " ".join(str(v) for row in cells for v in row)
    assert not any(names[m] in flat for m in (a, b, c, d) if len(names[m]) > 1)

    # The ledger: entries dated in the period (the reservation was recorded today, after it).
    r = api.c.get("/api/v1/reports/exports/ledger", params=PERIOD, headers=api.h)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == LEDGER
    assert [(x[1], x[2], x[3], x[4], x[6], x[7]) for x in rows[1:]] == [
        ("2026-03-01", "收入（捐助）", "500.00", "1500.00", "爱心企业", ""),
        ("2026-03-12", "支出（救助）", "300.00", "1200.00", "", names[a]),
    ]
    r = api.c.get(
        "/api/v1/reports/exports/ledger", params=PERIOD | {"format": "xlsx"}, headers=auditor
    )
    ledger = [
        list(x) for x in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
    ]
    assert ledger[2][7] == mask_name(names[a]) and float(ledger[2][3]) == 300.0

    # The evaluation list of 2026.
    r = api.c.get(
        "/api/v1/reports/exports/evaluations",
        params={"year": 2026, "format": "xlsx"},
        headers=api.h,
    )
    evaluations = [
        list(x) for x in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)
    ]
    assert evaluations[0][:3] == ["年度", "姓名", "身份证号"]
    assert [(x[0], x[1], x[5], x[6], x[7], x[9]) for x in evaluations[1:]] == [
        (2026, names[a], "已确定等次", "合格", "合格", "合格"),
        (2026, names[d], "流出地已评议", "优秀", None, None),  # empty cells
    ]


def test_formula_text_stays_text_and_a_host_operator_is_refused(
    api: Api, auditor: dict[str, str]
) -> None:
    member_id = api.register(**member_body(api.rng) | {"origin_branch": "=HYPERLINK(1)"})
    assert api.depart(member_id, HOST, "2026-02-01").status_code == 201
    r = api.c.get("/api/v1/reports/exports/roster", params={"format": "xlsx"}, headers=api.h)
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.cell(row=2, column=6).value == "'=HYPERLINK(1)"
    assert sheet.cell(row=2, column=6).data_type == "s"
    refused = api.c.get("/api/v1/reports/leadership", headers=auth("host_operator", HOST))
    assert refused.status_code == 403


def test_cli_export_against_a_running_service(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "LIANGDI_PLACE": ORIGIN,
        "LIANGDI_DATABASE_URL": pg_database_url,
        "LIANGDI_SYNC_ENABLED": "false",
    }
    service = ServiceProcess("outflow", free_port(), env, tmp_path / "logs").start()
    try:
        headers = auth("origin_operator", ORIGIN)
        rng = random.Random(7)
        registered = []
        with httpx.Client(base_url=service.url, headers=headers, trust_env=False) as http:
            for n in range(3):
                body = member_body(rng)
                r = http.post("/api/v1/members", json=body)
                assert r.status_code == 201, r.text
                member_id = r.json()["member_id"]
                departure = departure_body(HOST, rng, date(2026, 2, n + 1))
                assert (
                    http.post(f"/api/v1/members/{member_id}/departures", json=departure).status_code
                    == 201
                )
                registered.append(body["name"])
            wait_until(
                lambda: (
                    http.get("/api/v1/members", params={"status": "departed"}).json()["total"] == 3
                )
            )
        runner = CliRunner()
        out = tmp_path / "花名册.xlsx"
        result = runner.invoke(
            cli,
            ["export", "roster", "--url", service.url, "--year", "2026", "-o", str(out)],
            env={"LIANGDI_TOKEN": token("auditor")},
        )
        assert result.exit_code == 0, result.output
        rows = [list(x) for x in load_workbook(out).active.iter_rows(values_only=True)]
        assert rows[0] == ROSTER
        assert sorted(x[1] for x in rows[1:]) == sorted(mask_name(n) for n in registered)
        assert not list(tmp_path.glob(".*.part"))

        monkeypatch.chdir(tmp_path)  # no --output: the server's file name, here
        result = runner.invoke(
            cli,
            ["export", "roster", "--url", service.url, "--format", "csv", "--year", "2026"],
            env={"LIANGDI_TOKEN": token("origin_operator", ORIGIN)},
        )
        assert result.exit_code == 0, result.output
        text = (tmp_path / "roster-371326-20260101-20261231.csv").read_bytes()
        assert text.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
        assert sorted(x[1] for x in rows[1:]) == sorted(registered)

        # A token of another place is refused, and nothing is written.
        result = runner.invoke(
            cli,
            ["export", "ledger", "--url", service.url, "-o", str(tmp_path / "x.csv")],
            env={"LIANGDI_TOKEN": token("origin_operator", "371321")},
        )
        assert result.exit_code == 1 and "auth.wrong_place" in result.output
        assert not (tmp_path / "x.csv").exists()
    finally:
        service.stop()


def test_csv_is_streamed_and_xlsx_written_row_by_row(tmp_path: Path) -> None:
    pulled = 0

    def rows(total: int = 100_000) -> Iterator[list[Any]]:
        nonlocal pulled
        for n in range(total):
            pulled += 1
            yield [n, "张伟", date(2026, 1, 1)]

    chunks = csv_chunks(Sheet("roster", "花名册", ["序号", "姓名", "外出日期"], rows()))
    first = next(chunks)
    assert first.startswith("\ufeff序号,姓名,外出日期\r\n".encode())
    assert pulled <= 1000  # the first chunk went out before the rest was read
    size = len(first) + sum(len(chunk) for chunk in chunks)
    assert pulled == 100_000 and size > 2_000_000

    count = write_xlsx(
        Sheet("roster", "花名册", ["序号", "姓名", "外出日期"], rows(20_000)), tmp_path / "r.xlsx"
    )
    sheet = load_workbook(tmp_path / "r.xlsx", read_only=True).active
    written = list(sheet.iter_rows(values_only=True))
    assert count == 20_000 and len(written) == 20_001
    assert written[1][:2] == (0, "张伟") and written[-1][0] == 19_999


@pytest.mark.parametrize(
    ("params", "quarters"),
    [
        ({"year": 2026, "quarter": 4}, ["2026Q4"]),
        ({"start": date(2025, 11, 15), "end": date(2026, 2, 1)}, ["2025Q4", "2026Q1"]),
        ({"year": 2025}, ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]),
    ],
)
def test_period_quarters(params: dict[str, Any], quarters: list[str]) -> None:
    period = Period.of(**params, today=date(2026, 11, 29))
    assert [q for q, _, _ in period.quarters()] == quarters
    assert period.quarters()[-1][2] >= period.end
