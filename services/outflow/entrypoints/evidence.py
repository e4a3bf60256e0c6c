"""The assessment view with the evidence the hosts reported: the member's commitment for the year
(党员承诺 / 亮牌) and their service hours in host teams (docs/practices.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.outflow.entrypoints.transfer_assessment_fund_schemas import (
    AssessmentView as PlainAssessmentView,
)


class EvidenceSummary(BaseModel):
    commitments: list[dict[str, Any]] = Field(
        description="the year's public commitment as the host recorded it (text, made_on)"
    )
    service_hours: float = Field(description="hours served in host service teams that year")
    service_entries: int


class AssessmentView(PlainAssessmentView):
    evidence: EvidenceSummary | None = Field(
        None, description="commitments and service hours reported by the hosts for the year"
    )
