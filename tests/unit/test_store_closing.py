"""Closing a SQLite event store while another thread is still reading it.

A service stopping cancels its loops, but a blocking call already handed to a thread (a read
model's catch-up) runs on. The library's SQLite pool closed that thread's connection under it,
and SQLite ended the whole process with a segmentation fault (it stopped a CI run). The
application's `close` now waits for the connection to come back. The scenario runs in a child
process, so that a crash fails this test instead of ending the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = textwrap.dedent(
    """
    import sys, threading, time
    from eventsourcing.domain import Aggregate
    from shared.eventsourced import LiangdiApplication
    from shared.eventstore import eventsourcing_env

    class Note(Aggregate):
        def __init__(self, text: str) -> None:
            self.text = text

    class Notes(LiangdiApplication):
        pass

    folder, rounds = sys.argv[1], int(sys.argv[2])
    for n in range(rounds):
        app = Notes(env=eventsourcing_env(f"sqlite:///{folder}/notes{n}.db"))
        app.save(*[Note("x" * 200) for _ in range(3000)])
        reading, read = threading.Event(), []

        refused = []

        def catch_up() -> None:  # like a read model's pass: a run of reads, then done
            reading.set()
            for _ in range(10):
                try:
                    read.append(len(app.recorder.select_notifications(start=0, limit=3000)))
                except Exception as exc:  # a read begun after the close: refused, no crash
                    refused.append(type(exc).__name__)
                    return

        thread = threading.Thread(target=catch_up)
        thread.start()
        reading.wait()
        time.sleep(0.05)
        app.close()  # while the reads go on
        thread.join()
        print(f"round {n}: {len(read)} reads of {sorted(set(read))} {refused}", flush=True)
    """
)


def test_closing_waits_for_a_thread_still_reading_the_store(tmp_path: Path) -> None:
    rounds = 4
    done = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(tmp_path), str(rounds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    rounds_seen = [line.split(" reads of ") for line in done.stdout.splitlines()]
    assert len(rounds_seen) == rounds, done.stdout
    for (head, tail), n in zip(rounds_seen, range(rounds), strict=True):
        # Every read that began ran to its end (the store closed only between two reads); a
        # read that began after the close was refused with an error, not a crash.
        reads = int(head.split(": ")[1])
        assert reads >= 1 and tail.startswith("[3000]"), (n, done.stdout)
        assert reads == 10 or "Error" in tail, (n, done.stdout)
