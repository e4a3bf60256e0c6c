"""Pagination parameters, bounded: an offset past any real list is a 422, not a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 10_000_000

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="rows to return")]
