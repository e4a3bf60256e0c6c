"""The three lists the county exports (花名册, the fund ledger, the evaluation list): Chinese column
headers and rows read from the read models in batches, never all at once.

Each list is a `Sheet` whose rows are a generator: the connection is opened when the first row is
asked for and closed after the last, so a 100,000-member roster streams straight from the
database cursor into the file. Names go through `name` (the caller's masking rule); ID numbers and
phones are stored masked already (tables.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from services.outflow.adapters.report_queries import entry_day
from services.outflow.adapters.tables import applications, assessments, ledger, members
from services.outflow.domain.report_period import Period
from services.outflow.domain.status import AWAY
from shared.validation.grades import Grade
from shared.validation.places import county_name

_BATCH = 1000

STATUS_ZH = {
    "at_home": "在家",
    "departed": "外出流动",
    "returned": "已返回",
    "lost": "失联",
    "suspended": "停止党籍",
    "removed": "除名",
    "transferred": "已转出组织关系",
}
SEX_ZH = {"male": "男", "female": "女"}
ASSESSMENT_STATE_ZH = {
    "open": "未评议",
    "host_evaluated": "流入地已评议",
    "origin_evaluated": "流出地已评议",
    "ready": "待确定等次",
    "joint_review": "待联合评议",
    "jointly_reviewed": "已联合评议",
    "awaiting_confirmation": "待确认",
    "concluded": "已确定等次",
}
LEDGER_KIND_ZH = {
    "contribution": "收入（捐助）",
    "disbursement": "支出（救助）",
    "reservation": "预留",
    "release": "释放预留",
}


@dataclass(frozen=True)
class Sheet:
    kind: str  # roster, ledger, evaluations: the file name
    title: str  # the sheet's Chinese title
    headers: list[str]
    rows: Iterator[list[Any]]


def _zh(labels: dict[str, str], value: str | None) -> str:
    return labels.get(value, value) if value else ""


def _grade(value: str | None) -> str:
    return Grade(value).label_zh if value else ""


def _place(code: str | None) -> str:
    return f"{county_name(code) or ''} {code}".strip() if code else ""


def yuan(fen: int | None) -> Decimal | None:
    """Fen as yuan with two places (12345 -> 123.45): exact, no float rounding."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _stream(engine: sa.Engine, query: Any) -> Iterator[Any]:
    with engine.connect() as conn:
        # A server-side cursor on PostgreSQL: rows arrive in batches, not as one list.
        result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(query)
        yield from result.mappings()


ROSTER_HEADERS = [
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


def roster(engine: sa.Engine, period: Period, name: Callable[[str], str]) -> Sheet:
    """花名册: the members mobile in the period (away today, departed by its end)."""
    query = (
        sa.select(members)
        .where(members.c.status.in_([str(s) for s in AWAY]), members.c.departed_on <= period.end)
        .order_by(members.c.host_place, members.c.registered_at, members.c.member_id)
    )

    def rows() -> Iterator[list[Any]]:
        for n, r in enumerate(_stream(engine, query), start=1):
            yield [
                n,
                name(r["name"]),
                _zh(SEX_ZH, r["sex"]),
                r["resident_id_masked"],
                r["phone_masked"],
                r["origin_branch"],
                _zh(STATUS_ZH, r["status"]),
                _place(r["host_place"]),
                r["host_branch"] or "",
                r["employer"] or "",
                r["departed_on"],
                r["expected_months"],
                r["certificate_no"] or "",
                r["reported_on"],
                r["last_contact_on"],
                r["last_verified_on"],
            ]

    return Sheet("roster", "流动党员花名册", ROSTER_HEADERS, rows())


LEDGER_HEADERS = [
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


def fund_ledger(engine: sa.Engine, period: Period, name: Callable[[str], str]) -> Sheet:
    """The fund's ledger entries dated in the period (received or paid on, else recorded on),
    with the member an assistance payment went to."""
    day = entry_day()
    source = ledger.outerjoin(
        applications, applications.c.application_id == ledger.c.application_id
    ).outerjoin(members, members.c.member_id == applications.c.member_id)
    query = (
        sa.select(ledger, day.label("day"), members.c.name, applications.c.reason)
        .select_from(source)
        .where(day >= period.start, day <= period.end)
        .order_by(ledger.c.entry_no)
    )

    def rows() -> Iterator[list[Any]]:
        for r in _stream(engine, query):
            yield [
                r["entry_no"],
                r["day"],
                _zh(LEDGER_KIND_ZH, r["kind"]),
                yuan(r["amount_fen"]),
                yuan(r["balance_after_fen"]),
                yuan(r["reserved_after_fen"]),
                r["contributor"] or "",
                name(r["name"]) if r["name"] else "",
                r["reason"] or "",
                r["recorded_by"],
                r["at"].isoformat(timespec="seconds"),
            ]

    return Sheet("ledger", "救助基金台账", LEDGER_HEADERS, rows())


EVALUATION_HEADERS = [
    "年度",
    "姓名",
    "身份证号",
    "原所在党组织",
    "流入地",
    "评议状态",
    "流出地评议等次",
    "流入地评议等次",
    "联合评议",
    "确定等次",
    "参加活动次数",
]


def evaluation_list(engine: sa.Engine, period: Period, name: Callable[[str], str]) -> Sheet:
    """民主评议 of the period's years, one row per member and year."""
    source = assessments.join(members, members.c.member_id == assessments.c.member_id)
    query = (
        sa.select(
            assessments,
            members.c.name,
            members.c.resident_id_masked,
            members.c.origin_branch,
        )
        .select_from(source)
        .where(assessments.c.year.in_(period.years()))
        .order_by(assessments.c.year, members.c.registered_at, members.c.member_id)
    )

    def rows() -> Iterator[list[Any]]:
        for r in _stream(engine, query):
            yield [
                r["year"],
                name(r["name"]),
                r["resident_id_masked"],
                r["origin_branch"],
                _place(r["host_place"]),
                _zh(ASSESSMENT_STATE_ZH, r["state"]),
                _grade(r["origin_grade"]),
                _grade(r["host_grade"]),
                "是" if r["joint_review"] else "否",
                _grade(r["final_grade"]),
                r["attendance_count"],
            ]

    return Sheet("evaluations", "民主评议名单", EVALUATION_HEADERS, rows())


SHEETS = {"roster": roster, "ledger": fund_ledger, "evaluations": evaluation_list}
