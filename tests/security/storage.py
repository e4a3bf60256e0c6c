"""Raw views of a service's database, for looking for plaintext personal data at rest."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from shared.eventstore import views_url


def postgres_dump(base_url: str, schema: str) -> bytes:
    """Every value of every table in `schema`, raw bytes for bytea, text for the rest."""
    chunks: list[bytes] = []
    with psycopg.connect(base_url.split("?")[0]) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert tables, f"schema {schema} has no tables"
        for table in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            for row in conn.execute(query):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def sqlite_files(database: Path) -> bytes:
    """The event store's file and the read models' sibling file (`<name>.views.db`), each with
    its -wal and -shm companions, byte for byte."""
    views = Path(views_url(f"sqlite:///{database}")[len("sqlite:///") :])
    parts = [f for db in (database, views) for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))]
    return b"".join(p.read_bytes() for p in parts if p.exists())


def found(needles: dict[str, str], haystack: bytes) -> list[str]:
    """Which needles occur in the haystack: as UTF-8, or as the hex text of UTF-8."""
    hits = []
    for label, needle in needles.items():
        raw = needle.encode()
        if raw in haystack or raw.hex().encode() in haystack.lower():
            hits.append(label)
    return hits
