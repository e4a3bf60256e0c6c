"""Prometheus metrics of the exchange as a whole: the links view and the dead-letter store.

Labels are directions, place codes and states only: no member ids, no personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LINK = ["direction", "from_place", "to_place"]
FIGURES = (
    ("lag_messages", "liangdi_link_lag_messages", "Messages not yet applied on the link"),
    ("lag_seconds", "liangdi_link_lag_seconds", "How far applied facts trail published ones"),
    ("applied", "liangdi_link_applied", "Facts applied by the receiver (as it reports them)"),
    ("duplicates", "liangdi_link_duplicates", "Copies ignored as duplicates (as reported)"),
    ("parked", "liangdi_link_parked", "Facts waiting for their predecessor now"),
    ("published", "liangdi_link_published", "Facts published by the sender (as it reports)"),
    ("in_stream", "liangdi_link_in_stream", "Messages of the link the events stream received"),
    ("dead_lettered", "liangdi_link_dead_lettered", "Dead letters of the link, ever"),
    ("replay_gap", "liangdi_link_replay_gap", "Facts a replay skipped on record, not covered"),
    ("throughput_per_second", "liangdi_link_throughput", "Applied per second, last minute"),
    ("error_count", "liangdi_link_errors", "Errors and open dead letters on the link"),
)
STATES = ("running", "catching_up", "paused", "error", "gap", "unknown")


class ExchangeCollector(Collector):
    def __init__(
        self,
        links: Callable[[], list[dict[str, Any]]],
        dead_letter_counts: Callable[[], dict[tuple[str, str, str, str], int]],
    ):
        self._links, self._counts = links, dead_letter_counts

    def collect(self) -> Iterator[Any]:
        links = self._links()
        for field, name, doc in FIGURES:
            family = GaugeMetricFamily(name, doc, labels=LINK)
            for link in links:
                labels = [link["direction"], link["from_place"], link["to_place"]]
                family.add_metric(labels, float(link.get(field) or 0))
            yield family
        state = GaugeMetricFamily(
            "liangdi_link_state", "1 for the link's state", labels=[*LINK, "state"]
        )
        for link in links:
            labels = [link["direction"], link["from_place"], link["to_place"]]
            for name in STATES:
                state.add_metric([*labels, name], 1.0 if link["state"] == name else 0.0)
        yield state
        letters = GaugeMetricFamily(
            "liangdi_dead_letters", "Stored dead letters by state", labels=[*LINK, "state"]
        )
        for (direction, from_place, to_place, kind), count in self._counts().items():
            letters.add_metric([direction, from_place, to_place, kind], float(count))
        yield letters


def exchange_registry(
    links: Callable[[], list[dict[str, Any]]],
    dead_letter_counts: Callable[[], dict[tuple[str, str, str, str], int]],
) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ExchangeCollector(links, dead_letter_counts))
    return registry
