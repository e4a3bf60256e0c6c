"""Fixtures for the operations tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes the process's logging: give the next test what it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    uvicorn = {
        name: (list(lg.handlers), lg.propagate, lg.level)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        for lg in [logging.getLogger(name)]
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (hs, propagate, lvl) in uvicorn.items():
        lg = logging.getLogger(name)
        lg.handlers[:], lg.propagate = hs, propagate
        lg.setLevel(lvl)
    logging.captureWarnings(False)
    structlog.reset_defaults()
