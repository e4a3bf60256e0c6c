"""The eventsourcing Application base every liangdi service builds on."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import (
    JSONTranscoder,
    ProcessRecorder,
    Recording,
    Tracking,
    Transcoding,
)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class LiangdiApplication(Application[UUID]):
    """An Application whose recorder also keeps tracking records.

    Facts arriving from the other place are saved together with the position they came from,
    in one transaction, so a redelivered message can never apply twice.
    """

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_recorder(self) -> ProcessRecorder:  # type: ignore[override]
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def save_tracked(self, tracking: Tracking, *objs: Any) -> list[Recording[UUID]]:
        """Saves the aggregates' new events and `tracking` atomically."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        processing_event.collect_events(*objs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def position_of(self, tracking_name: str) -> int:
        return self.process_recorder.max_tracking_id(tracking_name) or 0
