"""Leader election for a place's link: only one relay (and receiver) per event store is active.

PostgreSQL: a session-level `pg_try_advisory_lock` held on a dedicated connection, keyed by the
schema and the relay name (advisory locks are per database, and several places may share one
database in different schemas). The lock lives exactly as long as that connection: when the leader
process dies, PostgreSQL drops its session and the lock, and a standby's next attempt (every
`retry_interval`) takes over. The leader checks its connection on every heartbeat and steps down
the moment it cannot prove it still holds the lock.

A short overlap (old leader not yet noticed its connection is gone) cannot double anything: the
relay's position is re-read on taking over, JetStream drops re-published message ids inside its
duplicate window, and the receiver's tracking drops the rest.

SQLite is the embedded, single-process default: there the one process is always the leader.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import uuid
from urllib.parse import parse_qs, urlparse

import psycopg

from shared.eventstore import is_postgres

log = logging.getLogger(__name__)


def lock_key(database_url: str, name: str) -> int:
    """A signed 64-bit advisory lock key for `name` within the URL's schema."""
    schema = parse_qs(urlparse(database_url).query).get("schema", ["public"])[0]
    digest = hashlib.sha256(f"liangdi/{schema}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Leadership:
    """Blocking calls (run them in a thread); `held` says whether this instance leads now."""

    def __init__(self, database_url: str, name: str, application_name: str = ""):
        self.database_url, self.name = database_url, name
        self.instance = instance_id()
        # The lock's session, found in pg_stat_activity beside the service's others.
        self.application_name = f"{application_name or 'liangdi'}-leader-{self.instance}"[:63]
        self.key = lock_key(database_url, name)
        self.always = not is_postgres(database_url)
        self._conn: psycopg.Connection | None = None
        self.held = self.always
        self.changes = 0
        # A release (the link stopping) while an attempt is under way in its thread makes that
        # attempt give the lock back: cancelling the awaiting task does not stop the thread, and
        # a lock taken after the release would be held by nobody until the process exits.
        self._guard = threading.Lock()
        self._releases = 0

    def try_acquire(self) -> bool:
        """Takes the lock if free; True when this instance is (still) the leader."""
        if self.always:
            return True
        if self._conn is not None:
            return self.confirm()
        with self._guard:
            releases = self._releases
        try:
            conn = psycopg.connect(
                self.database_url.split("?")[0],
                autocommit=True,
                connect_timeout=5,
                application_name=self.application_name,
                # Notice a dead peer within seconds rather than the OS default of hours.
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
            )
        except psycopg.Error as exc:
            log.warning("leader election: cannot connect (%s)", exc)
            return False
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:  # the session was cut between connecting and asking
            log.warning("leader election: lock not taken (%s)", exc)
            with contextlib.suppress(psycopg.Error):
                conn.close()
            return False
        if got and got[0]:
            with self._guard:
                if releases == self._releases:
                    self._conn, self.held = conn, True
                    self.changes += 1
                    log.info("%s: leader for %s", self.instance, self.name)
                    return True
        conn.close()  # not taken, or released meanwhile: closing the session frees the lock
        return False

    def confirm(self) -> bool:
        """Heartbeat: the lock's session still answers, so the lock is still ours."""
        if self.always:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1").fetchone()
            return True
        except psycopg.Error as exc:
            log.warning("%s: lost leadership of %s (%s)", self.instance, self.name, exc)
            self.release()
            return False

    def release(self) -> None:
        if self.always:
            return
        with self._guard:
            self._releases += 1
            conn, self._conn, self.held = self._conn, None, False
        if conn is not None:
            # Closing the session releases a session-level advisory lock.
            with contextlib.suppress(psycopg.Error):
                conn.close()
