"""The figures of the county leadership's report, read from the origin's read models (tables.py).

Contacts and quarterly checks are facts with a date of their own, and a member has many of them;
the members read model keeps only the latest. For a period's figures (who was in contact, who
attended, who was checked in which quarter) they are read from the notification log, selected by
topic so only those events are decoded (PostgreSQL or SQLite alike, and through the cipher).

Everything here is about the members "mobile in the period": away from the county today
(departed, lost contact or suspended) and departed on or before the period's end. Names are
returned as stored: the caller masks them for its reader (shared/security/masking.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from eventsourcing.utils import get_topic

from services.outflow.adapters.tables import assessments, fund, ledger, members
from services.outflow.domain.member import MobileMember
from services.outflow.domain.report_period import Period, share
from services.outflow.domain.status import AWAY, MemberStatus
from shared.validation.places import county_name

_AWAY = [str(s) for s in AWAY]
_PAGE = 500


@dataclass(frozen=True)
class Contact:
    member_id: str
    kind: str  # activity, report, verification, dues, other
    on: date


@dataclass(frozen=True)
class Check:
    member_id: str
    quarter: str
    checked_on: date


def _mobile(period: Period) -> Any:
    return sa.and_(members.c.status.in_(_AWAY), members.c.departed_on <= period.end)


def _topics(*names: str) -> list[str]:
    """The stored topics of these member events. An event a mixin (ContactAndLoss,
    QuarterlyVerification) declares is stored under the mixin's class, one declared on
    MobileMember under MobileMember's: ask every class of the aggregate."""
    found = {
        get_topic(getattr(cls, name))
        for cls in MobileMember.__mro__
        for name in names
        if isinstance(getattr(cls, name, None), type)
    }
    return sorted(found)


def _facts(app: Any, *names: str) -> Iterator[Any]:
    """Every stored member event of these names, decoded, in log order."""
    topics = _topics(*names)
    after = 0
    while True:
        page = app.recorder.select_notifications(
            after, _PAGE, topics=topics, inclusive_of_start=False
        )
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        if len(page) < _PAGE:
            return
        after = page[-1].id


def contacts_and_checks(app: Any, period: Period) -> tuple[list[Contact], list[Check]]:
    """Contacts (either side's, reports, checks that reached the member) and quarterly checks
    dated in the period."""
    contacts: list[Contact] = []
    checks: list[Check] = []
    for event in _facts(app, "ContactRecorded", "HostReportReceived", "Verified"):
        member, kind = str(event.originator_id), type(event).__name__
        if kind == "ContactRecorded":
            if event.on in period:
                contacts.append(Contact(member, event.kind, event.on))
        elif kind == "HostReportReceived":
            if event.reported_on in period:
                contacts.append(Contact(member, "report", event.reported_on))
        elif event.checked_on in period:
            checks.append(Check(member, event.quarter, event.checked_on))
            if event.contact_ok:
                contacts.append(Contact(member, "verification", event.checked_on))
    return contacts, checks


def mobile_rows(conn: sa.Connection, period: Period) -> list[dict[str, Any]]:
    query = sa.select(members).where(_mobile(period)).order_by(members.c.registered_at)
    return [dict(r) for r in conn.execute(query).mappings()]


def members_by_host(rows: list[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    by_place: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        counts = by_place[row["host_place"]]
        counts["mobile"] += 1
        counts[row["status"]] += 1
        counts["departed_in_period"] += row["departed_on"] in period
    return [
        {
            "host_place": place,
            "host_place_name": county_name(place) if place else None,
            "mobile": c["mobile"],
            "departed": c[MemberStatus.DEPARTED],
            "lost": c[MemberStatus.LOST],
            "suspended": c[MemberStatus.SUSPENDED],
            "departed_in_period": c["departed_in_period"],
        }
        for place, c in sorted(by_place.items(), key=lambda kv: (-kv[1]["mobile"], kv[0] or ""))
    ]


def _line(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A member in a list of the report: who, where, and the dates the list is about."""
    return {
        "member_id": row["member_id"],
        "name": row["name"],
        "host_place": row["host_place"],
        "host_branch": row["host_branch"],
        "departed_on": row["departed_on"],
        "last_contact_on": row["last_contact_on"],
    } | extra


def reporting(rows: list[dict[str, Any]], period: Period) -> dict[str, Any]:
    """报到率: of the mobile members, who has reported to the host by the period's end; overdue
    are those the host noted as not reported in time (and who still have not)."""
    reported = [r for r in rows if r["reported_on"] is not None and r["reported_on"] <= period.end]
    overdue = [
        _line(r, overdue_since=r["reporting_overdue_since"])
        for r in rows
        if r["reported_on"] is None and r["reporting_overdue_since"] is not None
    ]
    return {
        "mobile": len(rows),
        "reported": len(reported),
        "rate": share(len(reported), len(rows)),
        "overdue": sorted(overdue, key=lambda x: x["overdue_since"]),
    }


def verification(
    rows: list[dict[str, Any]], checks: list[Check], period: Period, as_of: date
) -> list[dict[str, Any]]:
    """Per quarter of the period: the mobile members away by its end, and how many of them
    were checked in it (每季度查档案、查地址、查联系方式)."""
    out = []
    for quarter, first, last in period.quarters():
        if first > as_of:
            break
        due = {r["member_id"] for r in rows if r["departed_on"] <= last}
        done = {c.member_id for c in checks if c.quarter == quarter} & due
        out.append(
            {
                "quarter": quarter,
                "due": len(due),
                "verified": len(done),
                "rate": share(len(done), len(due)),
            }
        )
    return out


def contact(
    rows: list[dict[str, Any]],
    contacts: list[Contact],
    as_of: date,
    lost_after_days: int,
) -> dict[str, Any]:
    """Coverage: mobile members with any contact dated in the period. Lost contact: those
    flagged lost or suspended, and the candidates (no contact for `lost_after_days`)."""
    ids = {r["member_id"] for r in rows}
    contacted = {c.member_id for c in contacts} & ids
    threshold = as_of - timedelta(days=lost_after_days)
    lost = []
    for r in rows:
        since = r["last_contact_on"] or r["departed_on"]
        if r["status"] in (MemberStatus.LOST, MemberStatus.SUSPENDED):
            lost.append(_line(r, status=r["status"], lost_on=r["lost_on"]))
        elif since is not None and since <= threshold:
            lost.append(_line(r, status="candidate", lost_on=None))
    return {
        "mobile": len(rows),
        "contacted": len(contacted),
        "coverage": share(len(contacted), len(rows)),
        "lost_contact": lost,
    }


def activity(rows: list[dict[str, Any]], contacts: list[Contact]) -> list[dict[str, Any]]:
    """Per host branch (the member's branch today): its mobile members, the activities they
    attended in the period (contacts of kind activity) and how many attended at least once."""
    branch_of = {r["member_id"]: (r["host_place"], r["host_branch"]) for r in rows}
    size: Counter[tuple[str, str | None]] = Counter(branch_of.values())
    attendances: Counter[tuple[str, str | None]] = Counter()
    attendees: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for c in contacts:
        if c.kind == "activity" and c.member_id in branch_of:
            key = branch_of[c.member_id]
            attendances[key] += 1
            attendees[key].add(c.member_id)
    return [
        {
            "host_place": place,
            "host_branch": branch,
            "members": n,
            "attendances": attendances[(place, branch)],
            "attendees": len(attendees[(place, branch)]),
            "rate": share(len(attendees[(place, branch)]), n),
        }
        for (place, branch), n in sorted(
            size.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")
        )
    ]


def evaluations(conn: sa.Connection, period: Period) -> list[dict[str, Any]]:
    """Per year of the period: assessments by state and by final grade ("none" until
    concluded)."""
    query = (
        sa.select(
            assessments.c.year, assessments.c.state, assessments.c.final_grade, sa.func.count()
        )
        .where(assessments.c.year.in_(period.years()))
        .group_by(assessments.c.year, assessments.c.state, assessments.c.final_grade)
    )
    years: dict[int, dict[str, Any]] = {
        y: {"year": y, "total": 0, "by_state": Counter(), "by_grade": Counter()}
        for y in period.years()
    }
    for year, state, grade, n in conn.execute(query):
        entry = years[year]
        entry["total"] += n
        entry["by_state"][state] += n
        entry["by_grade"][grade or "none"] += n
    return [
        y | {"by_state": dict(y["by_state"]), "by_grade": dict(y["by_grade"])}
        for y in years.values()
    ]


def entry_day() -> Any:
    """The day a ledger entry counts on: received or paid, else the day it was recorded
    (`date()` rather than a cast: SQLite would cast a timestamp to its year)."""
    return sa.func.coalesce(ledger.c.entry_date, sa.func.date(ledger.c.at, type_=sa.Date))


def _sum(conn: sa.Connection, kind: str, *where: Any) -> tuple[int, int]:
    query = sa.select(sa.func.coalesce(sa.func.sum(ledger.c.amount_fen), 0), sa.func.count())
    total, n = conn.execute(query.where(ledger.c.kind == kind, *where)).one()
    return int(total), int(n)


def fund_flows(conn: sa.Connection, period: Period) -> dict[str, Any]:
    """Money in (contributions) and out (disbursements) dated in the period, with the balance
    before and after it. Reservations move no money: they only bind part of the balance."""
    day = entry_day()
    before = day < period.start
    within = sa.and_(day >= period.start, day <= period.end)
    in_before, _ = _sum(conn, "contribution", before)
    out_before, _ = _sum(conn, "disbursement", before)
    received, contributions = _sum(conn, "contribution", within)
    paid, disbursements = _sum(conn, "disbursement", within)
    opening = in_before - out_before
    now = conn.execute(sa.select(fund)).mappings().first()
    return {
        "opening_balance_fen": opening,
        "contributed_fen": received,
        "contributions": contributions,
        "disbursed_fen": paid,
        "disbursements": disbursements,
        "closing_balance_fen": opening + received - paid,
        "balance_now_fen": now["balance_fen"] if now else 0,
        "reserved_now_fen": now["reserved_fen"] if now else 0,
    }


def leadership_report(
    engine: sa.Engine, app: Any, period: Period, as_of: date, lost_after_days: int
) -> dict[str, Any]:
    contacts, checks = contacts_and_checks(app, period)
    with engine.connect() as conn:
        rows = mobile_rows(conn, period)
        evaluated = evaluations(conn, period)
        money = fund_flows(conn, period)
    return {
        "period": {"from": period.start, "to": period.end, "as_of": as_of},
        "members_by_host": members_by_host(rows, period),
        "mobile": len(rows),
        "reporting": reporting(rows, period),
        "verification": verification(rows, checks, period, as_of),
        "contact": contact(rows, contacts, as_of, lost_after_days),
        "activity": activity(rows, contacts),
        "evaluations": evaluated,
        "fund": money,
    }
