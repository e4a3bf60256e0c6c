"""The checker itself: each count it reports can be non-zero (so a clean run means something)."""

from __future__ import annotations

import pytest

from tests.faults.checker import Figures, check, missing
from tests.faults.history import FAILED, OK, UNKNOWN, History

pytestmark = pytest.mark.faults


def history_of(*ops: tuple[str, str, str, str]) -> History:
    history = History()
    for kind, key, status, member in ops:
        side = "origin" if kind in ("depart", "employer", "origin_eval") else "host"
        history.complete(history.invoke(side, member, kind, key), status)
    return history


def test_a_clean_history_is_clean() -> None:
    history = history_of(("depart", "departure", OK, "m"), ("employer", "e1", OK, "m"))
    facts = [("depart", "departure"), ("employer", "e1")]
    figures = check(Figures("t", 1), history, {"o2h": {"m": facts}}, {"o2h": {"m": facts}})
    assert figures.clean and figures.ok == 2 and not missing(history, {"o2h": {"m": facts}})


def test_lost_duplicated_phantom_and_disorder_are_counted() -> None:
    history = history_of(
        ("depart", "departure", OK, "m"),
        ("employer", "e1", OK, "m"),
        ("employer", "e2", OK, "m"),
        ("origin_eval", "2001", OK, "m"),  # never arrives: lost
        ("employer", "e3", FAILED, "m"),  # refused, yet it arrives: phantom
        ("activity", "a1", UNKNOWN, "m"),  # may or may not arrive: neither lost nor phantom
    )
    sent = {"o2h": {"m": [("depart", "departure"), ("employer", "e1"), ("employer", "e2")]}}
    seen = {
        "o2h": {
            "m": [
                ("depart", "departure"),
                ("employer", "e2"),  # before e1: out of order
                ("employer", "e1"),
                ("employer", "e1"),  # twice: duplicated
                ("employer", "e3"),
                ("employer", "e9"),  # nobody asked for it: phantom
            ]
        }
    }
    figures = check(Figures("t", 1), history, seen, sent)
    assert (figures.lost, figures.duplicated, figures.order_violations) == (1, 1, 1)
    assert figures.phantom == 2 and figures.unknown == 1 and not figures.clean
    assert missing(history, seen) == [("o2h", "m", "origin_eval", "2001")]
    assert "lost=1" in figures.line() and "order_violations=1" in figures.line()
