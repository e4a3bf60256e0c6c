"""Routes of the information base (流动党员信息库): register, correct, list, history."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Query

from services.outflow.entrypoints.deps import ERRORS, App, Reader, Runtime, Writer
from services.outflow.entrypoints.member_reads import (
    list_members,
    member_summary,
    member_written,
    related_streams,
)
from services.outflow.entrypoints.schemas import (
    CorrectDetails,
    DetailsCorrected,
    MemberAsOf,
    MemberRegistered,
    MemberSummary,
    Page,
    RecordContact,
    RegisterMember,
    TimelineEntry,
)
from services.outflow.entrypoints.transfer_assessment_fund_schemas import ReadModelStatus
from shared.http.errors import ApiError
from shared.http.paging import MAX_OFFSET
from shared.security.masking import name_for, redact
from shared.validation import mask_phone, mask_resident_id
from shared.validation.bounds import PlaceCode, QueryDay, QueryMoment, Text, china_today

router = APIRouter(prefix="/api/v1", tags=["members"], responses=ERRORS)

STATES = "open, origin_evaluated, host_evaluated, ready, joint_review, awaiting_confirmation, "


@router.post(
    "/members",
    status_code=201,
    response_model=MemberRegistered,
    summary="Register a member in the information base (流动党员信息库)",
)
def register_member(body: RegisterMember, rt: Runtime, who: Writer) -> MemberRegistered:
    member_id = rt.app.register_member(**body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return MemberRegistered(member_id=member_id)


@router.get("/members", response_model=Page, summary="List and filter members (read model)")
def get_members(
    rt: Runtime,
    who: Reader,
    host_place: PlaceCode | None = Query(None, examples=["310115"]),
    status: Text(20) | None = Query(None, examples=["departed"]),
    overdue_check: bool | None = Query(None, description="quarterly check overdue on as_of"),
    lost_candidate: bool | None = Query(
        None, description="departed, no contact for the configured period (6 months) on as_of"
    ),
    assessment_year: int | None = Query(None, ge=2000, le=2100, examples=[2026]),
    assessment_state: Text(30) | None = Query(
        None, description=STATES + "concluded, or none (no assessment yet)"
    ),
    as_of: QueryDay | None = Query(None, description="the day overdue/lost are judged on; today"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page:
    return list_members(
        rt,
        who,
        host_place=host_place,
        status=status,
        overdue_check=overdue_check,
        lost_candidate=lost_candidate,
        assessment_year=assessment_year,
        assessment_state=assessment_state,
        as_of=as_of or china_today(),
        offset=offset,
        limit=limit,
    )


@router.get("/members/{member_id}", response_model=MemberSummary, summary="One member")
def get_member(member_id: UUID, rt: Runtime, who: Reader) -> MemberSummary:
    return member_summary(rt, member_id, who)


@router.patch(
    "/members/{member_id}",
    response_model=DetailsCorrected,
    summary="Correct a member's details (kept as an event: who and when)",
)
def correct_details(
    member_id: UUID, body: CorrectDetails, rt: Runtime, who: Writer
) -> DetailsCorrected:
    changes = body.model_dump(exclude_none=True)
    changed = rt.app.correct_details(member_id, changes=changes, recorded_by=who.subject)
    rt.after_write()
    return DetailsCorrected(member_id=member_id, corrected=sorted(changed))


@router.post(
    "/members/{member_id}/contacts",
    response_model=MemberSummary,
    summary="Record contact with the member (resets the lost-contact clock)",
)
def record_contact(member_id: UUID, body: RecordContact, rt: Runtime, who: Writer) -> MemberSummary:
    rt.app.record_contact(member_id, **body.model_dump(), recorded_by=who.subject)
    rt.after_write()
    return member_written(rt, member_id, who)


@router.get(
    "/members/{member_id}/timeline",
    response_model=list[TimelineEntry],
    summary="A member's full history: every event, with who and when (masked)",
)
def timeline(member_id: UUID, rt: Runtime, app: App, who: Reader) -> list[TimelineEntry]:
    entries = app.timeline(member_id, related_streams(rt, member_id))
    return [TimelineEntry.model_validate(redact(who, e)) for e in entries]


@router.get(
    "/members/{member_id}/as-of",
    response_model=MemberAsOf,
    summary="The member as the record stood at the end of a past day (what did we know on X)",
)
def as_of(
    member_id: UUID,
    app: App,
    who: Reader,
    on: QueryDay | None = Query(None, examples=["2026-04-01"], description="end of this day"),
    at: QueryMoment | None = Query(None, examples=["2026-04-01T09:30:00+08:00"]),
) -> MemberAsOf:
    if (on is None) == (at is None):
        raise ApiError("as_of.one_of", "give exactly one of `on` (a day) or `at` (an instant)", 422)
    m = app.member_as_of(member_id, at or on)  # type: ignore[arg-type]
    letters = [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in x.items()} for x in m.letters
    ]
    return MemberAsOf(
        member_id=m.id,
        as_of=at or on,
        version=m.version,
        recorded_at=m.modified_on,
        name=name_for(who, m.name),
        resident_id_masked=mask_resident_id(m.resident_id),
        phone_masked=mask_phone(m.phone),
        status=m.status,
        host_place=m.host_place,
        certificate_no=m.certificate_no,
        employer=m.employer or None,
        departed_on=m.departed_on,
        last_contact_on=m.contact_clock_since(),
        lost_reason=m.lost_reason,
        letters=letters,
    )


@router.get(
    "/status/read-models",
    response_model=ReadModelStatus,
    summary="How far the read models are (position in the event store, events since start)",
)
def read_model_status(rt: Runtime, _: Reader) -> ReadModelStatus:
    projector = rt.projector
    return ReadModelStatus(
        projector=projector.name,
        position=projector.position,
        head=rt.app.recorder.max_notification_id() or 0,
        handled_since_start=getattr(projector, "handled_since_start", 0),
    )
