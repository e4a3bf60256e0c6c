"""What every fact of the wire contract shares: the member and both places it is about.

The facts themselves are in `events.py` (by direction) and `practice_events.py` (the seeds'
practices, docs/practices.md).
"""

from __future__ import annotations

from typing import Literal

from shared.contracts.fields import MemberId
from shared.contracts.registry import WireEvent
from shared.validation.bounds import PlaceCode

Grade = Literal["excellent", "competent", "basically_competent", "not_competent"]


class MemberFact(WireEvent):
    """Every fact names the member (the origin's member id) and both places."""

    member_id: MemberId
    origin_place: PlaceCode
    host_place: PlaceCode
