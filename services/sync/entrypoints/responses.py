"""What the exchange's operator endpoints answer: one model per answer, for the OpenAPI document
other tools are built from. Keys a newer release adds pass through (`extra="allow"`), so a model
documents an answer without ever dropping part of it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DirectionName = Literal["o2h", "h2o"]


class Open(BaseModel):
    # Every field may be absent (an answer from a place that reports less, a row before the
    # state it describes): documented, never required, never dropped.
    model_config = ConfigDict(extra="allow")


class Link(Open):
    """One link (a sender's relay into a receiver), by what both sides and the stream report."""

    direction: DirectionName | None = None
    from_place: str | None = Field(None, examples=["371326"])
    to_place: str | None = Field(None, examples=["310115"])
    state: str | None = Field(
        None,
        examples=["running"],
        description="running, paused, parked, error, unknown, gap (docs/sync.md, Links)",
    )
    state_reason: str | None = None
    published: int | None = Field(
        None, description="facts the sender published on this link (cumulative)"
    )
    applied: int | None = Field(None, description="facts the receiver applied (cumulative)")
    duplicates: int | None = None
    dead_lettered: int | None = None
    dead_letters_open: int | None = None
    parked: int | None = None
    sender_backlog: int | None = None
    receiver_pending: int | None = None
    last_error: str | None = None


class LinksView(Open):
    links: list[Link] | None = None
    places: list[str] | None = Field(None, description="places whose services report their status")
    topology: dict[str, list[str]] | None = Field(
        None, description="each known place and its services", examples=[{"371326": ["outflow"]}]
    )
    gaps: list[dict[str, Any]] | None = Field(
        None, description="open replay gaps (facts skipped on record)"
    )


class Paused(Open):
    paused: str | None = Field(
        None, description="the control key set", examples=["pause.inflow.310115.371326"]
    )
    by: str | None = None
    reason: str | None = None


class Resumed(Open):
    resumed: str | None = Field(None, description="the control key cleared")
    by: str | None = None


class Replayed(Open):
    consumer: str | None = None
    from_sequence: int | None = None
    acknowledged_floor: int | None = None
    skipped: int | None = Field(None, description="facts skipped on record (allow_gap)")
    skipped_by_source: dict[str, int] | None = None
    gaps_recorded: list[Any] | None = Field(
        None, description="ids of the gaps recorded (allow_gap)"
    )
    gaps_closed: int | None = Field(None, description="earlier gaps this replay covers, now closed")
    resumed: bool | None = None
    by: str | None = None


class DeadLetterLink(Open):
    direction: DirectionName | None = None
    from_place: str | None = None
    to_place: str | None = None
    open: int | None = None
    oldest_age_seconds: float | None = None


class DeadLetterSummary(Open):
    links: list[DeadLetterLink] | None = None


class DeadLetter(Open):
    """A refused message, kept with its reason; personal fields in `message` are masked."""

    id: str | None = None
    direction: DirectionName | None = None
    from_place: str | None = None
    to_place: str | None = None
    receiver: str | None = None
    subject: str | None = None
    stream_seq: int | None = None
    reason: str | None = Field(
        None, examples=["rejected: inbound.not_hosted_here: no member m-1 here"]
    )
    reason_class: str | None = Field(None, examples=["rejected"])
    retry_of: str | None = None
    received_at: str | None = None
    state: Literal["open", "retried", "discarded"] | None = None
    retries: int | None = None
    last_retried_at: str | None = None
    last_retried_by: str | None = None
    discarded_at: str | None = None
    discarded_by: str | None = None
    discard_reason: str | None = None
    message: dict[str, Any] | None = None


class DeadLetterAction(Open):
    action: str | None = None
    by: str | None = None
    at: str | None = None
    reason: str | None = None


class DeadLetterDetail(DeadLetter):
    history: list[DeadLetterAction] | None = None


class DeadLetterPage(Open):
    total: int | None = None
    offset: int | None = None
    limit: int | None = None
    items: list[DeadLetter] | None = None


class Retried(Open):
    id: str | None = None
    subject: str | None = None
    msg_id: str | None = Field(None, description="the Nats-Msg-Id it was republished with")


class RetriedAll(Open):
    retried: int | None = None
    ids: list[str] | None = None


class Discarded(Open):
    id: str | None = None
    state: Literal["discarded"] | None = None
    by: str | None = None
    reason: str | None = None


class Counted(Open):
    total: int | None = None
    by_state: dict[str, int] | None = None
    by_kind: dict[str, int] | None = None


class ReconciliationReport(Open):
    as_of: date | None = None
    assessments: Counted | None = None
    mismatches: Counted | None = None
    gaps: list[dict[str, Any]] | None = None
    reconciler: dict[str, Any] | None = Field(
        None, description="the reconciler's position and counts"
    )


class JointAssessmentView(Open):
    assessment_id: str | None = None
    origin_place: str | None = None
    host_place: str | None = None
    member_id: str | None = None
    year: int | None = None
    state: str | None = Field(
        None,
        examples=["divergent"],
        description="awaiting_both, awaiting_origin, awaiting_host, agreed, divergent, "
        "concluded, overdue",
    )
    stage: str | None = None
    deadline: date | None = None
    origin_grade: str | None = None
    host_grade: str | None = None
    divergent: bool | None = None
    joint_review: dict[str, Any] | None = Field(
        None,
        description="recorded at the origin: agreed_grade, notes (sync admins only), "
        "reviewer, reviewed_on",
    )
    concluded_grade: str | None = None
    resolution: str | None = Field(None, description="sync admins only")
    concluded_without_review: bool | None = None
    evidence: list[dict[str, Any]] | None = None
    version: int | None = None


class AssessmentPage(Open):
    as_of: date | None = None
    items: list[JointAssessmentView] | None = None
    total: int | None = None
    offset: int | None = None
    limit: int | None = None


class MismatchView(Open):
    kind: str | None = Field(None, examples=["expected_not_reported"])
    age_days: int | None = None
    evidence: list[dict[str, Any]] | None = None


class MismatchPage(Open):
    as_of: date | None = None
    items: list[MismatchView] | None = None
    total: int | None = None
    offset: int | None = None
    limit: int | None = None


class AntiEntropyLink(Open):
    direction: DirectionName | None = None
    from_place: str | None = None
    to_place: str | None = None
    streams_sent: int | None = None
    streams_applied: int | None = None
    buckets_differing: int | None = None
    missing: list[dict[str, Any]] | None = None
    receiver_ahead: list[dict[str, Any]] | None = None
    resent: int | None = None
    agreed: bool | None = None


class AntiEntropyResult(Open):
    run_id: str | None = None
    mode: Literal["report", "repair"] | None = None
    started_at: float | None = None
    finished_at: float | None = None
    agreed: bool | None = None
    links: list[AntiEntropyLink] | None = None
    errors: list[str] | None = None
