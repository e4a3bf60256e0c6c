"""Maps `LIANGDI_DATABASE_URL` onto the eventsourcing library's own environment.

The library picks its recorders by `PERSISTENCE_MODULE`; the application code is the same for
PostgreSQL and SQLite, only this environment differs.

Every PostgreSQL session a service opens carries its `application_name` (`liangdi-<service>-
<place>`), so an operator finds a service's sessions in `pg_stat_activity` (docs/operations.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import sqlalchemy as sa
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from shared import batch_tracking
from shared.store_setup import create_schema
from shared.timestamps import aware_sqlite_datetimes

# PostgreSQL's limit (NAMEDATALEN - 1): a longer name is truncated by the server anyway.
_APPLICATION_NAME_MAX = 63


def application_name(service: str, place: str | None = None) -> str:
    """How a service's sessions show in `pg_stat_activity`: `liangdi-outflow-371326`,
    `liangdi-sync`."""
    return "-".join(["liangdi", service, *([place] if place else [])])[:_APPLICATION_NAME_MAX]


class NamedPostgresFactory(PostgresFactory):
    """The library's PostgreSQL persistence, its sessions named after the service.

    The library has no setting for `application_name`; its pool connects with keyword
    arguments, which it opens lazily, so adding the name here reaches every session.
    """

    POSTGRES_APPLICATION_NAME = "POSTGRES_APPLICATION_NAME"

    def __init__(self, env: Environment | dict[str, str] | None):
        super().__init__(env)
        name = self.env.get(self.POSTGRES_APPLICATION_NAME)
        if name:
            kwargs = self.datastore.pool.kwargs
            assert isinstance(kwargs, dict), "eventsourcing's pool takes keyword arguments"
            kwargs["application_name"] = name


def eventsourcing_env(
    database_url: str, cipher_key: str = "", application_name: str = ""
) -> dict[str, str]:
    """The eventsourcing environment for a `postgresql://` or `sqlite:///` URL; PostgreSQL
    sessions named `application_name` when given."""
    url = urlparse(database_url)
    # A cache of aggregates, each brought up to date from the store on every read: a write
    # reads one query's worth of new events instead of the aggregate's whole history (the
    # county's certificate register grows with every departure). See shared/eventsourced.py.
    env: dict[str, str] = {"IS_SNAPSHOTTING_ENABLED": "y", "AGGREGATE_CACHE_MAXSIZE": "2000"}
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = parse_qs(url.query)
        env.update(
            PERSISTENCE_MODULE=f"{__name__}:{NamedPostgresFactory.__qualname__}",
            POSTGRES_DBNAME=url.path.lstrip("/") or "postgres",
            POSTGRES_HOST=url.hostname or "127.0.0.1",
            POSTGRES_PORT=str(url.port or 5432),
            POSTGRES_USER=unquote(url.username or "postgres"),
            POSTGRES_PASSWORD=unquote(url.password or ""),
            POSTGRES_SCHEMA=query.get("schema", ["public"])[0],
            POSTGRES_POOL_SIZE="5",
            POSTGRES_MAX_OVERFLOW="10",
            PROCESS_RECORDER_TOPIC=batch_tracking.recorder_topic(postgres=True),
        )
        if application_name:
            env[NamedPostgresFactory.POSTGRES_APPLICATION_NAME] = application_name
    elif url.scheme == "sqlite":
        path = database_url[len("sqlite:///") :]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=path,
            PROCESS_RECORDER_TOPIC=batch_tracking.recorder_topic(postgres=False),
        )
        env["SQLITE_LOCK_TIMEOUT"] = "30"
    else:
        raise ValueError(f"unsupported database URL scheme {url.scheme!r}")
    if cipher_key:
        env.update(CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=cipher_key)
        env["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"
    return env


def sqlalchemy_engine(database_url: str, application_name: str = "") -> sa.Engine:
    """An engine for read models and positions: the event store's PostgreSQL schema, or for
    SQLite a sibling file (see below). PostgreSQL sessions named `application_name` if given."""
    url = urlparse(database_url)
    if url.scheme == "sqlite":
        # SQLite has one writer per file. Read models and positions live in a sibling file, so a
        # projector's transaction never queues the event store's writers behind it (and the
        # projector may read the event store while it holds its own write lock).
        # The sync service opens only this file, and may start before any place made the folder.
        Path(database_url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(views_url(database_url), connect_args={"timeout": 30})
        aware_sqlite_datetimes(engine)  # times come back with their offset (shared/timestamps.py)

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")

        return engine
    schema = parse_qs(url.query).get("schema", ["public"])[0]
    plain = database_url.split("?")[0].replace("postgresql://", "postgresql+psycopg://", 1)
    plain = plain.replace("postgres://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(
        plain,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"options": f"-csearch_path={schema}"}
        | ({"application_name": application_name} if application_name else {}),
    )
    with engine.begin() as conn:
        create_schema(conn, schema)  # instances starting together: shared/store_setup.py
    return engine


def views_url(database_url: str) -> str:
    """For SQLite, the file that holds read models and positions beside the event store."""
    path = Path(database_url[len("sqlite:///") :])
    return f"sqlite:///{path.with_name(path.stem + '.views' + (path.suffix or '.db'))}"


def is_postgres(database_url: str) -> bool:
    return urlparse(database_url).scheme.startswith("postgres")


def apply_env(env: dict[str, str]) -> dict[str, str]:
    """Environment for an Application: what we computed, overridable by the process env."""
    merged = dict(env)
    for key in ("POSTGRES_POOL_SIZE", "POSTGRES_MAX_OVERFLOW"):
        if key in os.environ:
            merged[key] = os.environ[key]
    return merged
