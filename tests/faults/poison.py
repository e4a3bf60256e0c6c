"""Poison: values no store should hold, sent to the API, and broken or forged wire facts.

Each API request must be refused with a 4xx (never stored, never a 5xx); each wire message must
end in the dead letters with its reason, the receiver flowing on. Every poison value carries a
marker, so the check can search the stores for anything of it that was kept.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from shared.contracts.envelope import H2O, O2H, Envelope
from shared.contracts.events import (
    ArrivedUnannounced,
    AssistanceRequested,
    MemberDetailsCorrected,
    OriginEvaluated,
)
from shared.messaging.topology import event_subject
from shared.security.signing import Signer, generate_keypair
from shared.validation import make_resident_id
from tests.faults.places import HOST, ORIGIN
from tests.support.factories import member_body

MARK = "Q9POISON"
HUGE = 10**30
TOO_MUCH_FEN = 10**20
GRADE = "competent"


def api_requests(member: str, hosted: str) -> list[tuple[str, str, str, Any]]:
    """(place, method, path, body) of writes and queries that must all be refused."""
    name_nul = f"李\u0000{MARK}"
    person = member_body(random.Random(7)) | {"name": name_nul}
    fund = {"contributor": MARK, "received_on": "2026-03-01"}
    activity = {"kind": "other", "held_on": "2026-03-20", "organiser": MARK}
    return [
        ("origin", "POST", "/api/v1/fund/contributions", fund | {"amount_fen": TOO_MUCH_FEN}),
        ("origin", "POST", "/api/v1/fund/contributions", fund | {"amount_fen": HUGE}),
        ("origin", "POST", "/api/v1/members", person),
        ("origin", "POST", "/api/v1/members", person | {"name": MARK * 200_000}),
        ("origin", "PATCH", f"/api/v1/members/{member}", {"employer": f"{MARK}\u0000"}),
        ("origin", "PATCH", f"/api/v1/members/{member}", {"employer": MARK * 300_000}),
        (
            "origin",
            "POST",
            f"/api/v1/members/{member}/assessments/{HUGE}/origin-evaluation",
            {"grade": "competent", "comments": MARK},
        ),
        (
            "origin",
            "POST",
            f"/api/v1/members/{member}/contacts",
            {"kind": "dues", "on": "9999-12-31", "note": MARK},
        ),
        ("origin", "GET", f"/api/v1/members?offset={HUGE}", None),
        (
            "host",
            "POST",
            "/api/v1/arrivals/unannounced",
            {
                "origin_place": ORIGIN,
                "name": name_nul,
                "resident_id": make_resident_id(ORIGIN, date(1990, 1, 1), 7),
                "phone": "13812345678",
                "reported_on": "2026-03-10",
            },
        ),
        ("host", "POST", "/api/v1/activities", activity | {"title": f"{MARK}\u0000"}),
        ("host", "POST", "/api/v1/activities", activity | {"title": MARK, "held_on": "0001-01-01"}),
        ("host", "POST", "/api/v1/activities", activity | {"title": MARK * 400_000}),
        ("host", "POST", f"/api/v1/members/{hosted}/evaluations", {"year": HUGE, "grade": GRADE}),
        # A replay needs the receiver paused first (else a 409 that proves nothing).
        ("sync", "POST", f"/admin/receivers/o2h/{HOST}/replay", {"from_sequence": HUGE}),
    ]


def keys() -> dict[str, tuple[str, str]]:
    """A signing key pair per place, and the settings that make each trust the other's."""
    return {ORIGIN: generate_keypair(), HOST: generate_keypair()}


def signing_env(pairs: dict[str, tuple[str, str]], place: str) -> dict[str, str]:
    roles = {ORIGIN: "origin", HOST: "host"}  # a key speaks only in its place's role
    trusted = ",".join(f"{roles[p]}:{p}={public}" for p, (_, public) in pairs.items())
    return {"LIANGDI_SIGNING_KEY": pairs[place][0], "LIANGDI_TRUSTED_KEYS": trusted}


def _envelope(member: str, type_: str, data: dict[str, Any], direction: str = O2H) -> Envelope:
    sender, receiver = (ORIGIN, HOST) if direction == O2H else (HOST, ORIGIN)
    service = "outflow" if direction == O2H else "inflow"
    return Envelope(
        id=str(uuid.uuid4()),
        source=f"/liangdi/{service}/{sender}",
        type=type_,
        subject=member,
        time=datetime.now(UTC),
        data=data,
        from_place=sender,
        to_place=receiver,
        direction=direction,
        stream=str(uuid.uuid4()),  # a stream of its own: in order, so only its content decides
        seq=1,
        prevseq=0,
    )


def _routed(envelope: Envelope, raw: bytes | None = None) -> tuple[str, bytes]:
    subject = event_subject(
        envelope.direction, envelope.from_place, envelope.to_place, envelope.subject
    )
    return subject, raw if raw is not None else envelope.to_bytes()


def wire_messages(member: str, pairs: dict[str, tuple[str, str]]) -> list[tuple[str, str, bytes]]:
    """(what, subject, bytes) of forged and broken facts about a real member, to the host
    (o2h) and, as one place could otherwise stop another, to the origin (h2o)."""
    signer, forger = Signer(ORIGIN, pairs[ORIGIN][0]), Signer(ORIGIN, generate_keypair()[0])
    host_signer = Signer(HOST, pairs[HOST][0])
    ids = {"member_id": member, "origin_place": ORIGIN, "host_place": HOST}
    evaluation = OriginEvaluated.cloudevent_type()
    to_host = event_subject(O2H, ORIGIN, HOST, member)
    cases: list[tuple[str, str, bytes]] = [
        ("malformed", to_host, b'{"specversion": "1.0", "id": ' + MARK.encode()),
        ("malformed", to_host, b"\xff\xfe" + MARK.encode()),
        # JSON that Python cannot hold: nested beyond its recursion limit, an integer of more
        # digits than it converts.
        (
            "malformed",
            to_host,
            b'{"' + MARK.encode() + b'": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        ),
        ("malformed", to_host, b'{"' + MARK.encode() + b'": ' + b"9" * 5_000 + b"}"),
    ]
    signed = {
        "unknown_type": _envelope(member, "cn.liangdi.member.teleported.v1", ids | {"to": MARK}),
        "year_huge": _envelope(member, evaluation, ids | {"year": HUGE, "grade": "competent"}),
        "grade_unknown": _envelope(member, evaluation, ids | {"year": 2026, "grade": MARK}),
        "nul_text": _envelope(
            member, MemberDetailsCorrected.cloudevent_type(), ids | {"employer": f"{MARK}\u0000"}
        ),
        "oversized": _envelope(
            member, evaluation, ids | {"year": 2026, "grade": GRADE, "comments": MARK * 90_000}
        ),
    }
    for what, envelope in signed.items():
        cases.append((what, *_routed(envelope, signer.sign(envelope).to_bytes())))
    record = str(uuid.uuid4())
    from_host = {
        "arrival_nul_name": _envelope(
            record,
            ArrivedUnannounced.cloudevent_type(),
            {
                "host_record_id": record,
                "origin_place": ORIGIN,
                "host_place": HOST,
                "name": f"李\u0000{MARK}",
                "resident_id": make_resident_id(ORIGIN, date(1990, 1, 1), 7),
                "phone": "13812345678",
                "reported_on": "2026-03-10",
            },
            H2O,
        ),
        "assistance_too_much": _envelope(
            member,
            AssistanceRequested.cloudevent_type(),
            ids
            | {
                "request_id": str(uuid.uuid4()),
                "amount_fen": TOO_MUCH_FEN,
                "reason": MARK,
                "requested_on": "2026-03-10",
            },
            H2O,
        ),
    }
    for what, envelope in from_host.items():
        cases.append((what, *_routed(envelope, host_signer.sign(envelope).to_bytes())))
    fact = ids | {"grade": "excellent", "comments": MARK}
    forged = _envelope(member, evaluation, fact | {"year": 2024})
    cases.append(("bad_signature", *_routed(forged, forger.sign(forged).to_bytes())))
    cases.append(("unsigned", *_routed(_envelope(member, evaluation, fact | {"year": 2023}))))
    return cases


def streams_of(raws: Iterable[bytes]) -> set[str]:
    """The sender streams named by the well-formed ones among `raws`."""
    out = set()
    for raw in raws:
        try:
            out.add(json.loads(raw)["liangdistream"])
        except (ValueError, RecursionError, KeyError, TypeError):
            continue
    return out
