"""The wire contract: CloudEvents envelope round trip, strict parsing, versioned schemas."""

from __future__ import annotations

import contextlib
import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.envelope import MalformedMessage, new_envelope, parse_envelope
from shared.contracts.events import MemberReported
from shared.contracts.registry import (
    SchemaViolation,
    UnknownEventType,
    WireEvent,
    parse_wire_event,
    upcaster,
    wire_event,
)
from shared.security.signing import SignatureRejected, Signer, TrustRegistry, generate_keypair


def _reported(**overrides: object) -> MemberReported:
    values = {
        "member_id": "m-1",
        "origin_place": "371326",
        "host_place": "310115",
        "reported_on": date(2026, 3, 5),
        "certificate_no": "371326-000001",
    } | overrides
    return MemberReported(**values)  # type: ignore[arg-type]


def _envelope(seq: int = 2, prevseq: int = 0, event: WireEvent | None = None):  # type: ignore[no-untyped-def]
    return new_envelope(
        event_id=f"310115.inflow.{seq}.0",
        service="inflow",
        event=event or _reported(),
        member_id="m-1",
        from_place="310115",
        to_place="371326",
        direction="h2o",
        stream="hosted-1",
        seq=seq,
        prevseq=prevseq,
    )


def test_envelope_round_trips_as_structured_cloudevent() -> None:
    envelope = _envelope()
    raw = envelope.to_bytes()
    decoded = json.loads(raw)
    assert decoded["specversion"] == "1.0"
    assert decoded["type"] == "cn.liangdi.member.reported.v1"
    assert decoded["source"] == "/liangdi/inflow/310115"
    assert decoded["liangdistream"] == "hosted-1"
    parsed = parse_envelope(raw)
    assert parsed == envelope
    assert parsed.wire_event() == _reported()
    assert parsed.tracking_name == "310115:hosted-1"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.pop("liangdistream"), "liangdistream"),
        (lambda d: d.update(specversion="0.3"), "specversion"),
        (lambda d: d.update(liangdidir="sideways"), "direction"),
        (lambda d: d.update(liangdiseq=1, liangdiprevseq=1), "not increasing"),
        (lambda d: d.update(data="a string"), "data"),
        # Read from the decoded object, as the CloudEvents SDK reads the bytes:
        (lambda d: d.update(time="yesterday"), "invalid CloudEvent"),
        (lambda d: d.update(time=20261201), "invalid CloudEvent"),
        (lambda d: d.update(data_base64="e30=", data=None), "data is not a JSON object"),
        (lambda d: d.update(data_base64="e30="), "invalid CloudEvent"),
        (lambda d: d.update(**{"bad-name": "x"}), "invalid CloudEvent"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    decoded = json.loads(_envelope().to_bytes())
    mutate(decoded)
    with pytest.raises(MalformedMessage, match=reason):
        parse_envelope(json.dumps(decoded).encode())


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parser(raw: bytes) -> None:
    # Anything but MalformedMessage escaping here would be a crash of the receiver.
    with contextlib.suppress(MalformedMessage):
        parse_envelope(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"specversion": "1.0", "id": {"a": ' * 50_000 + b"1" + b"}" * 50_001, "too deeply"),
        (b'{"specversion": "1.0", "liangdiseq": ' + b"9" * 5_000 + b"}", "digits"),
    ],
)
def test_json_python_cannot_hold_is_malformed_not_a_crash(raw: bytes, reason: str) -> None:
    # A peer that lies could send these within NATS's payload limit; escaping the parser, each
    # was held back and redelivered for ever instead of dead-lettered.
    with pytest.raises(MalformedMessage, match=reason):
        parse_envelope(raw)


def test_schema_violations_name_the_field() -> None:
    data = _reported().model_dump(mode="json") | {"origin_place": "37132"}
    with pytest.raises(SchemaViolation, match="origin_place"):
        parse_wire_event("cn.liangdi.member.reported.v1", data)
    with pytest.raises(SchemaViolation, match="unexpected"):
        parse_wire_event(
            "cn.liangdi.member.reported.v1", _reported().model_dump() | {"unexpected": 1}
        )
    with pytest.raises(UnknownEventType):
        parse_wire_event("cn.liangdi.member.reported.v9", data)
    with pytest.raises(UnknownEventType):
        parse_wire_event("com.example.other.v1", data)


@wire_event("test.greeting", 2)
class GreetingV2(WireEvent):
    text: str
    language: str


@upcaster("test.greeting", 1)
def _greeting_v1_to_v2(data: dict) -> dict:  # type: ignore[type-arg]
    return {"text": data["text"], "language": "zh"}


def test_an_older_version_still_in_flight_is_upcast() -> None:
    event = parse_wire_event("cn.liangdi.test.greeting.v1", {"text": "你好"})
    assert event == GreetingV2(text="你好", language="zh")


def test_signatures_bind_the_place_and_every_attribute() -> None:
    host_private, host_public = generate_keypair()
    other_private, _ = generate_keypair()
    trust = TrustRegistry({"host:310115": [host_public]})
    signed = Signer("310115", host_private).sign(_envelope())
    trust.verify(parse_envelope(signed.to_bytes()))

    tampered = json.loads(signed.to_bytes())
    tampered["data"]["certificate_no"] = "371326-999999"
    with pytest.raises(SignatureRejected, match="does not match"):
        trust.verify(parse_envelope(json.dumps(tampered).encode()))
    with pytest.raises(SignatureRejected, match="not trusted"):
        trust.verify(Signer("310115", other_private).sign(_envelope()))
    with pytest.raises(SignatureRejected, match="claims to come from"):
        trust.verify(Signer("310112", host_private).sign(_envelope()))
    with pytest.raises(SignatureRejected, match="not signed"):
        trust.verify(_envelope())
