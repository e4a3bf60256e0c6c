"""Prometheus metrics of a place's link, read from the agent's status at scrape time.

Each runtime has its own registry (several services can share a test process). Labels are
service, place codes and reason classes: never member ids, names or any other personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.messaging.receiver import APPLIED, DEAD, DUPLICATE, PARKED


class LinkCollector(Collector):
    def __init__(self, status: Any):
        self._status = status  # a callable returning PlaceAgent.status()

    def collect(self) -> Iterator[Any]:
        status = self._status()
        base = [status["service"], status["place"]]
        leader = GaugeMetricFamily(
            "liangdi_link_leader", "1 when this instance runs the link", labels=["service", "place"]
        )
        leader.add_metric(base, 1.0 if status.get("role") == "leader" else 0.0)
        yield leader
        connected = GaugeMetricFamily(
            "liangdi_nats_connected", "1 when connected to NATS", labels=["service", "place"]
        )
        connected.add_metric(base, 1.0 if status.get("connected") else 0.0)
        yield connected
        relay = status.get("relay")
        if relay:
            yield from _relay(base, relay)
        receiver = status.get("receiver")
        if receiver:
            yield from _receiver(base, receiver)


def _relay(base: list[str], relay: dict[str, Any]) -> Iterator[Any]:
    labels = ["service", "place", "to_place"]
    published = CounterMetricFamily(
        "liangdi_relay_published", "Messages published and acknowledged by JetStream", labels=labels
    )
    for to_place, count in relay["per_destination"].items():
        published.add_metric([*base, to_place], count)
    yield published
    backlog = GaugeMetricFamily(
        "liangdi_relay_backlog", "Stored events not yet relayed", labels=["service", "place"]
    )
    backlog.add_metric(base, relay["backlog"])
    yield backlog
    errors = CounterMetricFamily(
        "liangdi_relay_errors", "Relay attempts that failed", labels=["service", "place"]
    )
    errors.add_metric(base, relay.get("errors", 0))
    yield errors
    unsent = CounterMetricFamily(
        "liangdi_relay_unsent",
        "Stored facts the wire contract refuses: recorded, never sent (table liangdi_relay_unsent)",
        labels=["service", "place"],
    )
    unsent.add_metric(base, relay.get("unsent", 0))
    yield unsent


def _receiver(base: list[str], receiver: dict[str, Any]) -> Iterator[Any]:
    labels = ["service", "place", "from_place"]
    names = {
        APPLIED: ("liangdi_received_applied", "Inbound facts applied"),
        DUPLICATE: ("liangdi_received_duplicates", "Inbound copies ignored as duplicates"),
        PARKED: ("liangdi_received_parked", "Times an inbound fact waited for its predecessor"),
        DEAD: ("liangdi_received_dead_lettered", "Inbound facts sent to the dead letters"),
    }
    for result, (name, doc) in names.items():
        family = CounterMetricFamily(name, doc, labels=labels)
        for from_place, counts in receiver["sources"].items():
            family.add_metric([*base, from_place], counts.get(result, 0))
        yield family
    parked = GaugeMetricFamily(
        "liangdi_parked_now", "Inbound facts waiting for a predecessor", labels=["service", "place"]
    )
    parked.add_metric(base, receiver["parked_now"])
    yield parked
    oldest = GaugeMetricFamily(
        "liangdi_parked_oldest_seconds", "Age of the longest wait", labels=["service", "place"]
    )
    oldest.add_metric(base, receiver["oldest_parked_seconds"])
    yield oldest
    rejected = CounterMetricFamily(
        "liangdi_rejected",
        "Dead-lettered inbound messages by reason class (malformed, signature, ...)",
        labels=["service", "place", "reason_class"],
    )
    for reason, count in receiver.get("dead_by_reason", {}).items():
        rejected.add_metric([*base, reason], count)
    yield rejected
    paused = GaugeMetricFamily(
        "liangdi_receiver_paused",
        "1 when an operator paused the receiver",
        labels=["service", "place"],
    )
    paused.add_metric(base, 1.0 if receiver.get("paused") else 0.0)
    yield paused
    errors = CounterMetricFamily(
        "liangdi_receiver_errors",
        "Receiver loop errors (resubscribed)",
        labels=["service", "place"],
    )
    errors.add_metric(base, receiver.get("errors", 0))
    yield errors
    apart = receiver.get("checks_apart")
    if apart:
        yield from _checks_apart(base, apart)


def _checks_apart(base: list[str], apart: dict[str, Any]) -> Iterator[Any]:
    for name, doc, key in (
        (
            "liangdi_receiver_checked_apart_batches",
            "Batches checked in the receiver's checking process (a backlog's)",
            "batches",
        ),
        (
            "liangdi_receiver_checking_process_failures",
            "Times the checking process failed (its batches checked in the service meanwhile)",
            "failures",
        ),
    ):
        family = CounterMetricFamily(name, doc, labels=["service", "place"])
        family.add_metric(base, apart[key])
        yield family


def link_registry(status: Any) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(LinkCollector(status))
    return registry
