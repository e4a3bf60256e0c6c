"""Which places an anti-entropy run compares is read from the status bucket. An empty bucket
means no place has reported yet; a bucket that cannot be read must not pass for one: the run
would compare nothing and report `agreed` (a CI run once read that)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats

from services.sync.adapters.antientropy import AntiEntropy
from shared.messaging.topology import STATUS_BUCKET, ensure_topology
from tests.support.harness import settings_for


class Link:
    """The reconciliation component's NATS side, which is all a run uses of it."""

    def __init__(self, nats_url: str):
        self.nats_url, self.nc = nats_url, None

    async def connect(self) -> Any:
        if self.nc is None:
            self.nc = await nats.connect(self.nats_url)
        return self.nc.jetstream(timeout=2)


def a_run(nats_url: str, tmp_path: Path, bucket: str) -> dict[str, Any]:
    async def scenario() -> dict[str, Any]:
        link = Link(nats_url)
        js = await link.connect()
        await ensure_topology(js)
        if bucket == "gone":
            await js.delete_key_value(STATUS_BUCKET)
        settings = settings_for("sync", f"sqlite:///{tmp_path / 's.db'}", nats_url)
        try:
            return await AntiEntropy(settings, link, settle=0.1, timeout=1.0).run()
        finally:
            await link.nc.close()

    return asyncio.run(scenario())


def test_no_place_reported_yet_is_nothing_to_compare(nats_url: str, tmp_path: Path) -> None:
    result = a_run(nats_url, tmp_path, "empty")
    assert (result["agreed"], result["links"], result["errors"]) == (True, [], [])


def test_an_unreadable_status_bucket_is_an_error_not_agreement(
    nats_url: str, tmp_path: Path
) -> None:
    result = a_run(nats_url, tmp_path, "gone")
    assert result["agreed"] is False
    assert any("the places' status" in error for error in result["errors"]), result
