"""Start-up checks of a deployment's security settings, and the CORS allow-list.

Production refuses to start without what protects personal data (a cipher key for the event
store of a place service, real token secrets); development starts, with a warning.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from shared.config import DEV_SECRET, ExchangeSettings, revealed
from shared.security.identity import identity_key_problem
from shared.security.sealing import sealing_problem
from shared.security.tokens import weak_secrets

log = logging.getLogger(__name__)
PLACE_SERVICES = frozenset({"outflow", "inflow"})


class InsecureDeployment(RuntimeError):
    pass


def cipher_key_problem(key: str) -> str:
    if not key:
        return "LIANGDI_CIPHER_KEY is not set: personal data would be stored unencrypted"
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return "LIANGDI_CIPHER_KEY is not base64"
    if len(raw) not in (16, 24, 32):
        return f"LIANGDI_CIPHER_KEY decodes to {len(raw)} bytes, not 16, 24 or 32"
    return ""


def check_deployment(service: str, settings: Any, jwt_secret: str) -> None:
    """Raises InsecureDeployment in production for what would expose data; warns otherwise."""
    production = getattr(settings, "environment", "development") == "production"
    problems = weak_secrets(jwt_secret, DEV_SECRET) if production else []
    cipher_key = revealed(getattr(settings, "cipher_key", ""))
    if service in PLACE_SERVICES or cipher_key:
        problem = cipher_key_problem(cipher_key)
        if problem and (production or cipher_key):
            problems.append(problem)
        elif problem:
            log.warning("%s (acceptable in development only)", problem)
    if production and service in PLACE_SERVICES:
        problem = sealing_problem(settings)
        if problem:
            problems.append(problem)
    if production and service == "outflow":  # the origin derives member ids from ID numbers
        problem = identity_key_problem(revealed(getattr(settings, "identity_key", "")))
        if problem:
            problems.append(problem)
    if problems:
        raise InsecureDeployment(f"{service} refuses to start: " + "; ".join(problems))


def cors_origins() -> list[str]:
    """LIANGDI_CORS_ORIGINS: comma-separated origins allowed to call the API from a browser."""
    value = ExchangeSettings().cors_origins
    origins = [o.strip() for o in value.split(",") if o.strip()]
    if "*" in origins:
        raise InsecureDeployment("LIANGDI_CORS_ORIGINS may not be '*': list the origins")
    return origins
