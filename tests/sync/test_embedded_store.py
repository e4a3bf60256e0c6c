"""The sync service on the embedded SQLite store (the default of `liangdi up`)."""

from __future__ import annotations

from pathlib import Path

from services.sync.bootstrap import SyncRuntime
from shared.config import SyncSettings


def test_the_sync_service_starts_before_any_place_made_the_stores_folder(tmp_path: Path) -> None:
    # The sync service opens only its read-models file; it used to die with "unable to open
    # database file" when it started before a place had created the folder of the stores.
    folder = tmp_path / "var" / "stores"
    runtime = SyncRuntime(SyncSettings(database_url=f"sqlite:///{folder / 's.db'}"))
    try:
        assert (folder / "s.views.db").exists()
        assert runtime.deadletters.counts() == {}
    finally:
        runtime.engine.dispose()
