"""Prometheus metrics of a place's read models, read from the store at scrape time.

Labels are the service, the place code and the read model's name: never personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.read_models import ReadModelSet

log = logging.getLogger(__name__)
LABELS = ["service", "place", "read_model"]


class ReadModelCollector(Collector):
    def __init__(self, read_models: ReadModelSet, place: str | None):
        self.read_models, self.place = read_models, place or ""

    def collect(self) -> Iterator[Any]:
        halted = GaugeMetricFamily(
            "liangdi_read_model_halted",
            "1 while the read model is halted on an event",
            labels=LABELS,
        )
        lag = GaugeMetricFamily(
            "liangdi_read_model_lag", "Stored events the read model has not applied", labels=LABELS
        )
        position = GaugeMetricFamily(
            "liangdi_read_model_position", "Last notification applied", labels=LABELS
        )
        try:
            status = self.read_models.status()
        except Exception as exc:  # a scrape must answer even while the store does not
            log.warning("read model metrics unavailable: %s", exc)
            status = []
        for model in status:
            labels = [self.read_models.service, self.place, model["name"]]
            halted.add_metric(labels, 1.0 if model["state"] == "halted" else 0.0)
            lag.add_metric(labels, float(model["lag"]))
            position.add_metric(labels, float(model["position"]))
        yield halted
        yield lag
        yield position
