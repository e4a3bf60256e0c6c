"""The sync service takes a place's status only in the shape and bounds its views read
(`services/sync/adapters/statuses.py`): whatever bytes stand under a status key, the answer is a
checked status or a refusal with its reason, never another error, and what is kept is bounded."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sync.adapters.statuses import StatusRefused, take_status

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
KEYS = st.sampled_from(["outflow.371326", "inflow.310115", "inflow.31011", "x", ""])
FIELDS = st.sampled_from(["service", "place", "at", "relay", "receiver", "role", "sources"])


def a_status(service: str = "inflow", place: str = "310115") -> dict:
    """As `PlaceAgent.status()` writes one (fields the views do not read included)."""
    return {
        "service": service,
        "place": place,
        "connected": True,
        "role": "leader",
        "link_error": None,
        "instance": "vm-1-abc",
        "at": time.time(),
        "receiver": {
            "counts": {"applied": 3},
            "sources": {
                "371326": {
                    "applied": 3,
                    "duplicate": 1,
                    "parked": 0,
                    "dead_letter": 0,
                    "parked_now": 0,
                    "last_applied_at": time.time(),
                    "last_stream_seq": 12,
                }
            },
            "dead_by_reason": {},
            "last_error": None,
            "last_error_at": None,
            "errors": 0,
            "paused": False,
            "paused_sources": [],
        },
        "relay": {"per_destination": {"371326": 2}, "backlog": 0, "healthy": True, "errors": 0},
    }


def checked(key: str, raw: bytes) -> dict | None:
    try:
        return take_status(key, raw)
    except StatusRefused as exc:
        assert str(exc) and len(str(exc)) <= 1000
        return None


@given(KEYS, st.binary(max_size=300))
def test_any_bytes_are_a_status_or_refused(key: str, raw: bytes) -> None:
    checked(key, raw)


@given(KEYS, st.dictionaries(FIELDS, json_values) | json_values)
def test_any_json_is_a_status_or_refused_and_what_is_kept_is_bounded(key: str, value) -> None:
    status = checked(key, json.dumps(value, allow_nan=True).encode())
    if status is not None:
        assert key == f"{status['service']}.{status['place']}"
        assert math.isfinite(status["at"]) and 0 <= status["at"] <= 1e11


@given(FIELDS, json_values)
def test_a_real_status_with_one_field_replaced_is_a_status_or_refused(field, value) -> None:
    status = a_status()
    status[field] = value
    checked("inflow.310115", json.dumps(status).encode())


def test_a_real_status_is_kept_as_the_views_read_it() -> None:
    status = take_status("inflow.310115", json.dumps(a_status()).encode())
    source = status["receiver"]["sources"]["371326"]
    assert (source["applied"], source["duplicate"], source["last_stream_seq"]) == (3, 1, 12)
    assert status["relay"]["per_destination"] == {"371326": 2} and status["role"] == "leader"


@pytest.mark.parametrize(
    ("key", "change", "reason"),
    [
        ("outflow.310115", {}, "under the key"),  # a place speaking as another
        ("inflow.310115", {"service": None}, "service"),
        ("inflow.310115", {"at": 1e300}, "at"),
        ("inflow.310115", {"receiver": {"sources": {"３７１３２６": {}}}}, "receiver.sources"),
        ("inflow.310115", {"receiver": {"sources": {"371326": {"applied": -1}}}}, "applied"),
        ("inflow.310115", {"relay": {"per_destination": {"371326": 10**30}}}, "per_destination"),
    ],
)
def test_a_lying_status_is_refused_with_its_reason(key: str, change: dict, reason: str) -> None:
    with pytest.raises(StatusRefused, match=reason):
        take_status(key, json.dumps(a_status() | change).encode())
