"""Poison: values no store should hold, sent to the API, and broken or forged wire facts.

Each API request must be refused with a 4xx (never stored, never a 5xx); each wire message must
end in the dead letters with its reason, the receiver flowing on. Every poison value carries a
marker, so the check can search the stores for anything of it that was kept.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

from shared.contracts.envelope import O2H, Envelope
from shared.contracts.events import MemberDetailsCorrected, OriginEvaluated
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


def _envelope(member: str, type_: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        source=f"/liangdi/outflow/{ORIGIN}",
        type=type_,
        subject=member,
        time=datetime.now(UTC),
        data=data,
        from_place=ORIGIN,
        to_place=HOST,
        direction=O2H,
        stream=str(uuid.uuid4()),  # a stream of its own: in order, so only its content decides
        seq=1,
        prevseq=0,
    )


def wire_messages(member: str, origin_key: str) -> list[tuple[str, str, bytes, str]]:
    """(what, subject, bytes, message id) of forged and broken facts about a real member."""
    signer, forger = Signer(ORIGIN, origin_key), Signer(ORIGIN, generate_keypair()[0])
    ids = {"member_id": member, "origin_place": ORIGIN, "host_place": HOST}
    evaluation = OriginEvaluated.cloudevent_type()
    cases: list[tuple[str, bytes]] = [
        ("malformed", b'{"specversion": "1.0", "id": ' + MARK.encode()),
        ("malformed", b"\xff\xfe" + MARK.encode()),
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
        cases.append((what, signer.sign(envelope).to_bytes()))
    fact = ids | {"grade": "excellent", "comments": MARK}
    forged = _envelope(member, evaluation, fact | {"year": 2024})
    cases.append(("bad_signature", forger.sign(forged).to_bytes()))
    unsigned = _envelope(member, evaluation, fact | {"year": 2023})
    cases.append(("unsigned", unsigned.to_bytes()))
    subject = event_subject(O2H, ORIGIN, HOST, member)
    return [(what, subject, raw, f"poison-{uuid.uuid4()}") for what, raw in cases]
