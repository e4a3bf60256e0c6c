"""Masking of personal names, for readers who may not see personal data (auditors)."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """``"张**"``: the surname and the length, nothing more."""
    return name[:1] + "*" * max(len(name) - 1, 1)
