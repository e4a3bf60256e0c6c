"""Process recorders that record many tracking positions in one transaction.

The receiver applies a batch of facts from the other place in one transaction: the events of all
of them and the position of each member's stream they came from (one tracking record per member
stream) commit together or not at all. The library's process recorder takes one `tracking` per
insert; these take `trackings` too, inserted by the library's own statement in the same
transaction (before the events, as the library does with its one tracking record).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder


class _ManyTrackings:
    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        trackings: Sequence[Tracking] = kwargs.get("trackings", ())
        for tracking in trackings:
            self._insert_tracking(curs, tracking)  # type: ignore[attr-defined]
        return super()._insert_events(curs, stored_events, **kwargs)  # type: ignore[misc]


class PostgresBatchProcessRecorder(_ManyTrackings, PostgresProcessRecorder):
    pass


class SQLiteBatchProcessRecorder(_ManyTrackings, SQLiteProcessRecorder):
    pass


def recorder_topic(postgres: bool) -> str:
    """The library's `PROCESS_RECORDER_TOPIC` for the backend."""
    cls = PostgresBatchProcessRecorder if postgres else SQLiteBatchProcessRecorder
    return f"{__name__}:{cls.__qualname__}"
