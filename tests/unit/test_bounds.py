"""Every field is bounded where it enters (issue 9, section 1): the bounded types themselves, the
wire facts of the two reproductions, the ceiling and the 64-bit totals. `test_bounds_everywhere.py`
walks every body, fact and parameter."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.outflow.domain.fund import AssistanceFund
from shared.contracts.envelope import MalformedMessage, parse_envelope
from shared.contracts.fields import SEALED_PREFIX
from shared.contracts.registry import SchemaViolation, parse_wire_event
from shared.security.sealing import PREFIX, Sealer, generate_sealing_keypair
from shared.validation import ValidationFailed
from shared.validation.bounds import (
    INT64_MAX,
    MAX_EXACT_FEN,
    AmountFen,
    Code,
    Day,
    PlaceCode,
    QueryDay,
    Text,
    check_amount_ceiling,
)
from tests.security.messages import departure

# --- the types --------------------------------------------------------------------------------


def refused(adapter: TypeAdapter[Any], value: object) -> str:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    return caught.value.errors()[0]["type"]


def test_text_is_normalised_and_refuses_what_a_store_cannot_hold() -> None:
    line, free = TypeAdapter(Text(5)), TypeAdapter(Text(20, min_len=0, multiline=True))
    assert line.validate_python("e\u0301") == "\u00e9"  # NFC
    assert refused(line, "李\u0000四") == "text.control_character"
    assert refused(line, "a\u001bb") == "text.control_character"
    assert refused(line, "a\nb") == "text.control_character"  # one line
    assert refused(line, "a\u2028b") == "text.control_character"
    assert refused(line, "   ") == "text.blank"
    assert refused(line, "x" * 6) == "string_too_long"
    assert refused(line, "\ud800") == "string_unicode"  # a lone surrogate is not UTF-8
    assert free.validate_python("a\r\nb\tc") == "a\nb\tc"
    assert free.validate_python("") == ""
    assert refused(free, "a\u0000") == "text.control_character"


def test_normalising_cannot_lengthen_a_text_past_its_bound() -> None:
    # U+FB2C decomposes into three code points under NFC: 5 characters become 15.
    assert refused(TypeAdapter(Text(10)), "\ufb2c" * 5) == "text.too_long"


def test_codes_places_amounts_and_days() -> None:
    code = TypeAdapter(Code(40, allow_empty=True))
    assert code.validate_python("371326-000001") == "371326-000001"
    assert code.validate_python("") == ""
    assert refused(code, "371326 000001") == "string_pattern_mismatch"
    assert refused(TypeAdapter(PlaceCode), "٣٧١٣٢٦") == "string_pattern_mismatch"  # \d would pass
    amount = TypeAdapter(AmountFen)
    assert amount.validate_python(MAX_EXACT_FEN) == MAX_EXACT_FEN
    for bad in (0, -1, MAX_EXACT_FEN + 1, 10**20, True, 1.5, "100"):
        assert refused(amount, bad)
    day = TypeAdapter(Day)
    assert day.validate_python("1900-01-01") == date(1900, 1, 1)
    assert refused(day, "1899-12-31") == "date.out_of_range"
    assert refused(day, (date.today() + timedelta(days=400)).isoformat()) == "date.out_of_range"
    assert refused(TypeAdapter(QueryDay), "9999-12-31") == "date.out_of_range"


def test_the_ceiling_per_transaction_and_the_64_bit_total() -> None:
    assert check_amount_ceiling(100, 100) == 100
    with pytest.raises(ValidationFailed) as over:
        check_amount_ceiling(101, 100)
    assert over.value.code == "amount.above_ceiling" and "amount_fen" in over.value.message
    fund = AssistanceFund("371326")
    fund.contribute(
        amount_fen=INT64_MAX - 10, contributor="x", received_on=date(2026, 1, 1), recorded_by="t"
    )
    with pytest.raises(ValidationFailed) as overflow:
        fund.contribute(
            amount_fen=11, contributor="x", received_on=date(2026, 1, 2), recorded_by="t"
        )
    assert overflow.value.code == "amount.total_overflow"
    assert fund.contributed_fen == INT64_MAX - 10  # refused, not recorded
    fund.contribute(amount_fen=10, contributor="x", received_on=date(2026, 1, 2), recorded_by="t")
    assert fund.balance_fen == INT64_MAX


# --- wire facts -------------------------------------------------------------------------------

ARRIVAL = {
    "host_record_id": "9b0a3f0e-6a57-4a53-9a43-8e1c1f0b8a11",
    "origin_place": "371326",
    "host_place": "310115",
    "name": "李四",
    "resident_id": "371326199005010124",
    "phone": "13812345678",
    "reported_on": "2026-03-10",
}
REQUEST = {
    "member_id": "m-1",
    "origin_place": "371326",
    "host_place": "310115",
    "request_id": "r-1",
    "amount_fen": 200_000,
    "reason": "住院",
    "requested_on": "2026-03-10",
}


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("member.arrived_unannounced", ARRIVAL | {"name": "李\u0000四"}, "name"),
        ("member.arrived_unannounced", ARRIVAL | {"reported_on": "1980-01-01"}, "before the birth"),
        ("member.arrived_unannounced", ARRIVAL | {"reported_on": "9999-12-31"}, "reported_on"),
        ("member.arrived_unannounced", ARRIVAL | {"resident_id": "371326199005010125"}, "check"),
        ("assistance.requested", REQUEST | {"amount_fen": 10**20}, "amount_fen"),
        ("assistance.requested", REQUEST | {"reason": "x" * 501}, "reason"),
        ("assistance.requested", REQUEST | {"member_id": "m\u0000"}, "member_id"),
    ],
)
def test_a_wire_fact_out_of_range_is_a_schema_violation(name: str, data: dict, field: str) -> None:
    with pytest.raises(SchemaViolation) as caught:
        parse_wire_event(f"cn.liangdi.{name}.v1", data)
    assert field in str(caught.value)
    assert "李" not in str(caught.value), "a reason never echoes the value (personal data)"


def test_the_same_facts_in_range_are_accepted() -> None:
    assert parse_wire_event("cn.liangdi.member.arrived_unannounced.v1", ARRIVAL).name == "李四"
    assert parse_wire_event("cn.liangdi.assistance.requested.v1", REQUEST).amount_fen == 200_000


def test_sealed_personal_fields_are_bounded_as_sealed() -> None:
    """The exchange's reconciler reads facts whose personal fields are sealed for the receiver."""
    origin, host = generate_sealing_keypair(), generate_sealing_keypair()
    sealer = Sealer("371326", [origin[0]], {"310115": [host[1]]})
    sealed = sealer.seal(departure("371326", "310115"))
    assert sealed.data["resident_id"].startswith(SEALED_PREFIX) and SEALED_PREFIX == PREFIX
    assert sealed.wire_event().name == sealed.data["name"]  # accepted as it is, never opened
    forged = sealed.data | {"name": SEALED_PREFIX + "\u0000"}
    with pytest.raises(SchemaViolation, match="name: is not a well-formed sealed value"):
        parse_wire_event(sealed.type, forged)


def test_a_sequence_number_beyond_a_64_bit_position_is_malformed() -> None:
    envelope = dataclasses.replace(departure("371326", "310115"), seq=2**63, prevseq=0)
    with pytest.raises(MalformedMessage, match="64-bit"):
        parse_envelope(envelope.to_bytes())
    assert parse_envelope(dataclasses.replace(envelope, seq=2**63 - 1).to_bytes()).seq == 2**63 - 1
