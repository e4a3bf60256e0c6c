"""What operators see of a place service's read models, and their ways back after a halt:
retry, skip (with an audit record) and rebuild (docs/operations.md, "Read models").

A halt is kept in `liangdi_read_model_failures` (so it survives restarts and every instance of
the service sees it); the row also records how it was resolved, by whom and why. Catching up is
in `shared.read_models`, whose `ReadModelSet` takes these as a mixin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from shared.positions import HALTED, REBUILT, RETRIED, SKIPPED, PositionStore, failures, now
from shared.projection import ReadModel
from shared.schema_upgrade import recreate_tables

log = logging.getLogger(__name__)


class Refused(Exception):
    """An operator's action that does not fit the read model's state (HTTP 409)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class OperatorView:
    """The read models' state and the operators' actions on them (mixed into `ReadModelSet`)."""

    engine: sa.Engine
    positions: PositionStore
    last_error: dict[str, str]

    if TYPE_CHECKING:  # catching up, in `ReadModelSet`

        def __iter__(self) -> Iterator[ReadModel]: ...

        def head(self) -> int: ...

        def catch_up_one(self, model: ReadModel, max_batches: int | None = None) -> str: ...

    def _halted_names(self, conn: sa.Connection, names: list[str]) -> set[str]:
        rows = conn.execute(
            sa.select(failures.c.read_model).where(
                failures.c.read_model.in_(names), failures.c.state == HALTED
            )
        )
        return {name for (name,) in rows}

    def halted(self, conn: sa.Connection, name: str) -> dict[str, Any] | None:
        row = conn.execute(
            sa.select(failures)
            .where(failures.c.read_model == name, failures.c.state == HALTED)
            .order_by(failures.c.id.desc())
            .limit(1)
        ).first()
        return dict(row._mapping) if row else None

    def status(self) -> list[dict[str, Any]]:
        head = self.head()
        out = []
        with self.engine.connect() as conn:
            for model in self:
                position = self.positions.get(model.key, conn)
                failure = self.halted(conn, model.name)
                history = conn.execute(
                    sa.select(failures)
                    .where(failures.c.read_model == model.name, failures.c.state != HALTED)
                    .order_by(failures.c.id.desc())
                    .limit(20)
                ).all()
                out.append(
                    {
                        "name": model.name,
                        "tables": [t.name for t in model.tables],
                        "position": position,
                        "head": head,
                        "lag": max(head - position, 0),
                        "state": HALTED if failure else "running",
                        "failure": failure,
                        "last_error": self.last_error.get(model.name),
                        "handled_since_start": model.handled_since_start,
                        "history": [dict(row._mapping) for row in history],
                    }
                )
        return out

    def halted_all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [f for m in self if (f := self.halted(conn, m.name)) is not None]

    # -- the operators' ways back --------------------------------------------------------------

    def _resolve(self, conn: sa.Connection, row_id: int, state: str, by: str, reason: str) -> None:
        conn.execute(
            failures.update()
            .where(failures.c.id == row_id)
            .values(state=state, resolved_by=by, resolved_at=now(), reason=reason)
        )

    def _halted_or_refuse(self, conn: sa.Connection, model: ReadModel) -> dict[str, Any]:
        failure = self.halted(conn, model.name)
        if failure is None:
            raise Refused("read_model.not_halted", f"read model {model.name} is not halted")
        return failure

    def retry(self, model: ReadModel, by: str, reason: str) -> None:
        """After a fix is deployed: resume from the failed event (it halts again if it fails)."""
        with model.lock, self.engine.begin() as conn:
            failure = self._halted_or_refuse(conn, model)
            self._resolve(conn, failure["id"], RETRIED, by, reason)
        self.catch_up_one(model, max_batches=10)

    def skip(self, model: ReadModel, position: int, by: str, reason: str) -> None:
        """Waives the halted event for this read model only; kept for later rebuilds too."""
        with model.lock, self.engine.begin() as conn:
            failure = self._halted_or_refuse(conn, model)
            if failure["position"] != position:
                raise Refused(
                    "read_model.wrong_position",
                    f"read model {model.name} is halted at position {failure['position']}, "
                    f"not {position}",
                )
            self._resolve(conn, failure["id"], SKIPPED, by, reason)
        self.catch_up_one(model, max_batches=10)

    def rebuild(self, model: ReadModel, by: str, reason: str) -> None:
        """Empties the tables and replays from 0 (in the background); skipped events stay so."""
        with model.lock, self.engine.begin() as conn:
            self.positions.lock(conn, model.key)
            failure = self.halted(conn, model.name)
            if failure is not None:
                self._resolve(conn, failure["id"], REBUILT, by, reason)
            recreate_tables(conn, model)
            self.positions.set(model.key, 0, conn)
            model.seen_at = 0  # read-your-writes waits for the replay again
        log.warning("read model %s rebuilt from 0 by %s: %s", model.key, by, reason)
