"""What the host's service does by itself on a schedule (`LIANGDI_DUTY_INTERVAL_SECONDS`)."""

from __future__ import annotations

from uuid import UUID

from services.inflow.adapters import queries
from shared.runtime import PlaceRuntime
from shared.validation.bounds import china_today


def flag_overdue_reporting(rt: PlaceRuntime) -> list[UUID]:
    """Members who have not reported (报到) within the deadline are flagged, and their origin
    told, without waiting for an operator to ask: once per deadline, like the manual call."""
    app = rt.app
    as_of = china_today()
    rt.fresh_reads()  # the candidates come from the read models: every write so far in them
    with rt.engine.connect() as conn:
        candidates = queries.overdue_candidates(
            conn,
            as_of=as_of,
            deadline_days=app.reporting_deadline_days,  # type: ignore[attr-defined]
        )
    if not candidates:
        return []
    flagged = app.flag_overdue_reporting(  # type: ignore[attr-defined]
        [UUID(c) for c in candidates], as_of=as_of
    )
    rt.after_write()
    return flagged


DUTIES = (flag_overdue_reporting,)
