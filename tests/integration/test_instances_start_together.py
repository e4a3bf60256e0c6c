"""Several instances of a service starting at once on a fresh PostgreSQL store.

A deployment's replicas, `uvicorn --workers N`, or the link apart beside the HTTP instances
(docs/operations.md) start together on a new schema. `CREATE ... IF NOT EXISTS` is not safe
against itself: two sessions both pass the check, one fails on PostgreSQL's catalogue (a
duplicate key in `pg_type` or `pg_namespace`) and its process exits at start-up. Every instance
must start, whatever the timing.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.support.harness import running, settings_for, wait_until

INSTANCES = 4
PLACES = {"outflow": "371326", "inflow": "310115", "sync": None}


def _start_together(kind: str, settings: Any) -> list[str]:
    """Starts `INSTANCES` copies of the service (their lifespans: store, tables, read models,
    audit trail) in threads released at the same moment; what each one raised."""
    gate, errors = threading.Barrier(INSTANCES), []

    def instance() -> None:
        gate.wait()
        try:
            with running(kind, settings) as client:
                ready = lambda: client.get("/readyz").status_code == 200  # noqa: E731
                wait_until(ready, 30, 0.2, f"{kind} to be ready")
        except Exception as error:  # noqa: BLE001 - the test reports what each one raised
            errors.append(f"{type(error).__name__}: {str(error)[:300]}")

    threads = [threading.Thread(target=instance) for _ in range(INSTANCES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "an instance hung at start-up"
    return errors


@pytest.mark.parametrize("kind", sorted(PLACES))
@pytest.mark.parametrize("attempt", range(2))
def test_instances_starting_together_on_a_new_schema_all_start(
    kind: str, attempt: int, pg_database_url: str, nats_url: str
) -> None:
    link = {} if kind == "sync" else {"sync_enabled": False}
    settings = settings_for(kind, pg_database_url, nats_url, PLACES[kind], **link)
    assert _start_together(kind, settings) == []
