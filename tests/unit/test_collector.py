"""A service, as it starts, has the garbage collector look at its young objects less often
(shared/collector.py): full collections of a busy process stopped it for 100-160 ms."""

from __future__ import annotations

import gc
from pathlib import Path

from shared.collector import YOUNG
from tests.support.harness import running, settings_for

ORIGIN = "371326"


def test_a_service_collects_its_young_objects_less_often(tmp_path: Path) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    try:
        settings = settings_for(
            "outflow",
            f"sqlite:///{tmp_path / 'outflow.db'}",
            "nats://127.0.0.1:1",
            ORIGIN,
            sync_enabled=False,
        )
        with running("outflow", settings) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_threshold() == (YOUNG, 10, 10)
    finally:
        gc.set_threshold(*before)
