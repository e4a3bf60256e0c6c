"""The interpreter's garbage collector, set for a long-running service.

CPython collects its youngest objects every 700 allocations (net of deallocations) and all of
them, every object the process holds, every hundred of those. That suits a short script. A
place service holds a few hundred thousand objects from its start (modules, schemas, compiled
statements, caches) and allocates fast while it applies a backlog or answers the offices:
measured on a host catching up (docs/performance.md, "Tenth pass"), collections took about an
eighth of its process's time, each full one 100-160 ms during which nothing else in the process
ran (every request, every fact waited). Most of what a request or a fact allocates is freed by
reference counting long before a collection looks at it; collecting the young generation every
10,000 allocations instead finds the same cycles, 14 times less often.
"""

from __future__ import annotations

import gc

YOUNG = 10_000  # allocations between two collections of the young generation


def collect_less_often() -> None:
    """The young generation's threshold raised; the older ones keep theirs (each collected
    after that many collections of the one below)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
