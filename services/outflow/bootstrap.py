"""The composition root of the origin county's service."""

from __future__ import annotations

from services.outflow.adapters.exports import exporter_for
from services.outflow.adapters.imports import importer_for
from services.outflow.adapters.projection import READ_MODELS
from services.outflow.application import OutflowApplication, OutflowRules
from shared.config import OutflowSettings
from shared.contracts.envelope import H2O
from shared.runtime import PlaceRuntime
from shared.security.identity import identity_key_or_dev


def bootstrap(settings: OutflowSettings | None = None) -> PlaceRuntime:
    settings = settings or OutflowSettings()  # type: ignore[call-arg]
    return PlaceRuntime(
        settings=settings,
        service="outflow",
        inbound_direction=H2O,
        application_class=OutflowApplication,
        read_models=READ_MODELS,
        exporter=exporter_for,
        importer=importer_for,
        app_kwargs={
            "place": settings.place,
            "rules": OutflowRules.from_settings(settings),
            "identity_key": identity_key_or_dev(
                settings.identity_key.get_secret_value(), settings.environment
            ),
        },
    )
