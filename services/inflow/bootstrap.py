"""The composition root of the host district's service."""

from __future__ import annotations

from services.inflow.adapters.exports import exporter_for
from services.inflow.adapters.imports import importer_for
from services.inflow.adapters.projection import READ_MODELS
from services.inflow.application import InflowApplication
from services.inflow.entrypoints.duties import DUTIES
from shared.config import InflowSettings
from shared.contracts.envelope import O2H
from shared.runtime import PlaceRuntime
from shared.security.identity import identity_key_or_dev


def bootstrap(settings: InflowSettings | None = None) -> PlaceRuntime:
    settings = settings or InflowSettings()  # type: ignore[call-arg]
    return PlaceRuntime(
        settings=settings,
        service="inflow",
        inbound_direction=O2H,
        application_class=InflowApplication,
        read_models=READ_MODELS,
        exporter=exporter_for,
        importer=importer_for,
        duties=DUTIES,
        app_kwargs={
            "place": settings.place,
            "reporting_deadline_days": settings.reporting_deadline_days,
            "branch_minimum": settings.branch_minimum,
            "branch_maximum": settings.branch_maximum,
            "max_amount_fen": settings.max_amount_fen,
            "identity_key": identity_key_or_dev(
                settings.identity_key.get_secret_value(), settings.environment
            ),
        },
    )
