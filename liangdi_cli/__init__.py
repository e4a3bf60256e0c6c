"""`liangdi`: the operator's command line — run the embedded stack, issue tokens, demo."""

from __future__ import annotations
