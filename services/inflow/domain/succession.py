"""A member's host record handed on to a newer one.

A member who left this host and later reports here again unannounced (未报先到) gets a new
record; once the origin confirms who they are, the old, left record says which record holds the
member now, so the origin's facts about them find the new one (docs/flows.md, "Unannounced
arrival").
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class RecordSuccession(Aggregate):
    # A class default: records (and snapshots) from before successions load as well.
    superseded_by: str | None = None

    @event("Superseded")
    def supersede(self, *, by_record_id: str) -> None:
        self.superseded_by = by_record_id
