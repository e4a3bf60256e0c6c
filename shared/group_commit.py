"""Group commit: concurrent saves of one process written in one transaction of the event store.

Every insert into the event store takes the table's `EXCLUSIVE` lock for its whole transaction
(eventsourcing orders notification ids by commit that way) and ends with its own commit. Under
concurrent commands the writers queue on that lock one transaction at a time, and each holder
must win the GIL back between its round trips while the lock is held. Here a save that finds
another one being written waits for it, and the next writer takes everything that queued
meanwhile: one lock, one commit (one WAL flush) for all of them, in the order they arrived.

Each save stays atomic on its own (its events are all in the one transaction, or none are). If
the shared transaction fails (a conflict with a concurrent writer, a lost session), every save
in it is written again alone, so each caller gets its own outcome (its own `IntegrityError`, its
own 409) exactly as without grouping. (A commit that was lost with its session but did happen
makes each save alone a conflict, just as it does a save that was alone from the start.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

Put = Callable[[Sequence[Any]], list[Any]]


class _Save:
    __slots__ = ("events", "done", "recordings", "error", "alone")

    def __init__(self, events: Sequence[Any]):
        self.events = events
        self.done = False
        self.recordings: list[Any] = []
        self.error: BaseException | None = None  # of a save written alone by the writer
        self.alone = False  # the shared transaction failed: written again by its caller


class GroupCommit:
    """Writes the events of concurrent saves with one call of `put` (one transaction).

    `put(events)` stores the events in one transaction and returns one recording per event, in
    order (the library's `EventStore.put`). At most `max_saves` saves go in one transaction.
    """

    def __init__(self, put: Put, max_saves: int = 64):
        self._put, self._max = put, max_saves
        self._changed = threading.Condition()
        self._queue: list[_Save] = []
        self._writing = False

    def put(self, events: Sequence[Any]) -> list[Any]:
        save = _Save(events)
        with self._changed:
            self._queue.append(save)
        while True:
            with self._changed:
                while self._writing and not save.done:
                    self._changed.wait()
                if save.done:
                    break
                # Nobody is writing: this thread writes what queued (its own save among them).
                self._writing = True
                batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            try:
                self._write(batch)
            finally:
                with self._changed:
                    for each in batch:
                        each.done = True
                    self._writing = False
                    self._changed.notify_all()
        if save.error is not None:
            raise save.error
        if save.alone:
            return self._put(save.events)
        return save.recordings

    def _write(self, batch: list[_Save]) -> None:
        if len(batch) == 1:  # as without grouping; its caller raises what it raised
            try:
                batch[0].recordings = self._put(batch[0].events)
            except Exception as exc:
                batch[0].error = exc
            return
        try:
            recordings = self._put([event for save in batch for event in save.events])
        except Exception:  # each save again alone, for its own outcome (a conflict, or stored)
            for save in batch:
                save.alone = True
            return
        start = 0
        for save in batch:
            save.recordings = recordings[start : start + len(save.events)]
            start += len(save.events)
