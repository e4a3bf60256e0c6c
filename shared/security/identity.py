"""Identifiers derived from a resident ID number without revealing it.

An origin keeps one record per person, so a member's id is derived from their ID number. A plain
hash would be reversible (the ID numbers of one county are few enough to enumerate), so the
derivation is keyed: HMAC-SHA256 with the deployment's `LIANGDI_IDENTITY_KEY`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

log = logging.getLogger(__name__)

DEV_IDENTITY_KEY = "liangdi-dev-identity-key-not-for-production"


def person_key(secret: str, place: str, resident_id: str) -> str:
    """An opaque, stable key for one person at one place; useless without the secret."""
    digest = hmac.new(secret.encode(), f"{place}:{resident_id}".encode(), hashlib.sha256)
    return digest.hexdigest()


def identity_key_or_dev(configured: str, environment: str) -> str:
    """The configured key; in development the fixed development key. (Production without a key
    never gets this far: `check_deployment` refuses to start it.)"""
    if configured:
        return configured
    if environment != "production":
        log.warning("LIANGDI_IDENTITY_KEY is not set: using the development key")
    return DEV_IDENTITY_KEY


def identity_key_problem(configured: str) -> str:
    if not configured:
        return "LIANGDI_IDENTITY_KEY is not set (member ids are keyed with it)"
    if configured == DEV_IDENTITY_KEY or len(configured) < 16:
        return "LIANGDI_IDENTITY_KEY is the development key or shorter than 16 characters"
    return ""
