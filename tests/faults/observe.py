"""What each side's own event store recorded of the other side's facts, per member, in order.

Read straight from the place's PostgreSQL schema or SQLite file after the run (the offline half
of the check): the receiving store's notification order is the order in which the place learnt
the facts, across all of a member's aggregates. The suite runs without a cipher key, so states
are JSON. Every member id is written one way (`_member`) whichever column or state field it came
from: the checker matches facts to the history by that string, so two spellings of one UUID
would show a member's facts as lost and as phantom at once.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.faults.checker import Seen
from tests.faults.places import connect

_TITLE = re.compile(r": (\S+) \(")


def _schema(url: str) -> tuple[str, str]:
    base, _, query = url.partition("?")
    return base, query.split("schema=")[1].split("&")[0]


def _sqlite(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """The embedded default: the library's `stored_events` table, read-only."""
    path = Path(url[len("sqlite:///") :])
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'stored_events'").fetchone():
            return []
        return db.execute(query, args).fetchall()


def _rows(url: str, table: str) -> list[tuple[str, str, dict[str, Any]]]:
    if url.startswith("sqlite:///"):
        found = _sqlite(url, "SELECT originator_id, topic, state FROM stored_events ORDER BY rowid")
        # SQLite keeps originator ids as 32 hex digits: the same UUIDs, written without dashes.
        return [(_member(o), t.rsplit(".", 1)[-1], json.loads(bytes(s))) for o, t, s in found]
    base, schema = _schema(url)
    with connect(base) as conn:
        exists = conn.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).fetchone()
        if not exists:
            return []
        rows = conn.execute(
            f'SELECT originator_id, topic, state FROM "{schema}"."{table}" ORDER BY notification_id'
        ).fetchall()
    return [
        (_member(oid), topic.rsplit(".", 1)[-1], json.loads(bytes(state)))
        for oid, topic, state in rows
    ]


def _member(value: Any) -> str:
    """A UUID as the history writes it (with dashes): from a PostgreSQL `uuid`, SQLite's 32 hex
    digits, a string in a state, or the library's transcoding (`{"_data_": hex}`)."""
    if isinstance(value, dict):
        value = value["_data_"]
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:  # not a UUID at all: kept as it is, the checker counts it as unasked
        return str(value)


def _host_store(url: str) -> tuple[dict, dict]:
    """(what the host learnt from origins, what the host itself recorded to tell them)."""
    saw: dict[str, list[tuple[str, str]]] = defaultdict(list)
    sent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    member_of: dict[str, str] = {}
    evaluation_of: dict[str, tuple[str, int]] = {}
    for oid, name, state in _rows(url, "inflowapplication_events"):
        if name == "ArrivalExpected":
            member_of[oid] = _member(state["origin_member_id"])
            saw[member_of[oid]].append(("depart", "departure"))
        elif name == "DetailsCorrected" and state.get("by_origin") and oid in member_of:
            if "employer" in state.get("changes", {}):
                saw[member_of[oid]].append(("employer", state["changes"]["employer"]))
        elif name == "Opened" and "origin_member_id" in state and "year" in state:
            evaluation_of[oid] = (_member(state["origin_member_id"]), int(state["year"]))
        elif name == "OriginEvaluated" and oid in evaluation_of:
            member, year = evaluation_of[oid]
            saw[member].append(("origin_eval", str(year)))
        elif name == "Reported" and oid in member_of:
            sent[member_of[oid]].append(("report", "report"))
        elif name == "Attended" and oid in member_of:
            sent[member_of[oid]].append(("activity", state.get("title", "")))
        elif name == "Evaluated" and oid in evaluation_of:
            member, year = evaluation_of[oid]
            sent[member].append(("host_eval", str(year)))
    return dict(saw), dict(sent)


def _origin_store(url: str) -> tuple[dict, dict]:
    """(what the origin learnt from hosts, what the origin itself recorded to tell them)."""
    saw: dict[str, list[tuple[str, str]]] = defaultdict(list)
    sent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    assessment_of: dict[str, tuple[str, int]] = {}
    for oid, name, state in _rows(url, "outflowapplication_events"):
        if name == "HostReportReceived":
            saw[oid].append(("report", "report"))
        elif name == "ContactRecorded" and state.get("kind") == "activity":
            title = _TITLE.search(state.get("note", ""))
            saw[oid].append(("activity", title.group(1) if title else state.get("note", "")))
        elif name == "Opened" and "member_id" in state and "year" in state:
            assessment_of[oid] = (_member(state["member_id"]), int(state["year"]))
        elif name == "HostEvaluated" and oid in assessment_of:
            member, year = assessment_of[oid]
            saw[member].append(("host_eval", str(year)))
        elif name == "Departed":
            sent[oid].append(("depart", "departure"))
        elif name == "DetailsCorrected" and "employer" in state.get("changes", {}):
            sent[oid].append(("employer", state["changes"]["employer"]))
        elif name == "OriginEvaluated" and oid in assessment_of:
            member, year = assessment_of[oid]
            sent[member].append(("origin_eval", str(year)))
    return dict(saw), dict(sent)


def host_saw(url: str) -> dict[str, list[tuple[str, str]]]:
    return _host_store(url)[0]


def observe(origin_url: str, host_url: str) -> Seen:
    """What each receiving side recorded: `{"o2h": host's view, "h2o": origin's view}`."""
    return {"o2h": _host_store(host_url)[0], "h2o": _origin_store(origin_url)[0]}


def observe_both(origin_url: str, host_url: str) -> tuple[Seen, Seen]:
    """(what each side received, what each side recorded to send), by direction."""
    host_saw_, host_sent = _host_store(host_url)
    origin_saw_, origin_sent = _origin_store(origin_url)
    return {"o2h": host_saw_, "h2o": origin_saw_}, {"o2h": origin_sent, "h2o": host_sent}


def stored_marks(url: str, table: str, mark: str) -> int:
    """How many stored events of a place contain `mark` anywhere in their state."""
    if url.startswith("sqlite:///"):
        query = "SELECT count(*) FROM stored_events WHERE instr(state, ?) > 0"
        return int(_sqlite(url, query, mark.encode())[0][0]) if _sqlite(url, "SELECT 1") else 0
    base, schema = _schema(url)
    with connect(base) as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{schema}"."{table}" WHERE position(%s in state) > 0',
            (mark.encode(),),
        ).fetchone()
    return int(row[0]) if row else 0
