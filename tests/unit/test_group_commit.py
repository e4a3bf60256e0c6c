"""Group commit (shared/group_commit.py): concurrent saves share a transaction, each keeps its own
outcome."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.group_commit import GroupCommit


class Conflict(Exception):
    pass


class Store:
    """A fake event store: one call of `put` is one transaction; "bad" events conflict."""

    def __init__(self, pause: float = 0.01):
        self.calls: list[list[str]] = []
        self.stored: list[str] = []
        self.pause = pause
        self._lock = threading.Lock()

    def put(self, events: list[str]) -> list[str]:
        time.sleep(self.pause)  # the transaction's round trips: others queue meanwhile
        with self._lock:
            self.calls.append(list(events))
            if any(e.startswith("bad") for e in events):
                raise Conflict(events)  # nothing of the transaction is stored
            self.stored.extend(events)
        return [f"rec:{e}" for e in events]


def test_concurrent_saves_share_transactions_and_get_their_own_recordings() -> None:
    store = Store()
    group = GroupCommit(store.put)
    saves = [[f"s{n}a", f"s{n}b"] for n in range(24)]
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(group.put, saves))
    assert results == [[f"rec:{e}" for e in save] for save in saves]
    assert sorted(store.stored) == sorted(e for save in saves for e in save)
    assert len(store.calls) < len(saves)  # some saves shared a transaction
    for call in store.calls:  # a save's events stay together, in order
        for n in range(24):
            mine = [e for e in call if e[:-1] == f"s{n}"]
            assert mine in ([], [f"s{n}a", f"s{n}b"])


def test_a_conflict_fails_only_its_own_save() -> None:
    store = Store()
    group = GroupCommit(store.put)
    saves = [[f"ok{n}"] for n in range(10)] + [["bad1"], ["bad2"]]
    outcomes: dict[str, object] = {}

    def save(events: list[str]) -> None:
        try:
            outcomes[events[0]] = group.put(events)
        except Conflict as exc:
            outcomes[events[0]] = exc

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(save, saves))
    assert all(isinstance(outcomes[f"bad{n}"], Conflict) for n in (1, 2))
    assert all(outcomes[f"ok{n}"] == [f"rec:ok{n}"] for n in range(10))
    assert sorted(store.stored) == sorted(f"ok{n}" for n in range(10))


def test_a_save_alone_raises_its_own_error() -> None:
    group = GroupCommit(Store(pause=0).put)
    with pytest.raises(Conflict):
        group.put(["bad"])
    assert group.put(["fine"]) == ["rec:fine"]  # the group goes on after an error
