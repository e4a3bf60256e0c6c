"""State is rebuilt from the event store, through snapshots, exactly as it was built."""

from __future__ import annotations

from datetime import date, timedelta

from services.inflow.application import InflowApplication
from services.inflow.domain.member import HostedMember
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from tests.inflow.support import HOST, ORIGIN


def test_member_rebuilt_from_snapshot_and_later_events(pg_database_url: str) -> None:
    sqlalchemy_engine(pg_database_url).dispose()  # creates the schema
    env = eventsourcing_env(pg_database_url)
    app = InflowApplication(env=env, place=HOST)
    member = HostedMember.expect(
        host_place=HOST,
        origin_member_id="m-1",
        origin_place=ORIGIN,
        name="王伟",
        resident_id="371326199001010011",
        sex="male",
        phone="13900000000",
        employer="张江",
        host_address="某路1号",
        departed_on=date(2026, 1, 1),
        certificate_no="371326-000001",
    )
    app.save(member)
    app.record_report(
        member.id,
        certificate_no="371326-000001",
        reported_on=date(2026, 1, 2),
        recorded_by="t",
        today=date(2026, 11, 1),
    )
    first = date(2026, 1, 3)
    ids = [
        app.record_activity(
            kind="other",
            title=f"#{n}",
            held_on=first + timedelta(days=n),
            organiser="社区",
            attendee_ids=[member.id],
            recorded_by="t",
            today=date(2026, 11, 1),
        )
        for n in range(60)
    ]
    assert app.snapshots is not None
    assert list(app.snapshots.get(member.id)), "a snapshot was taken"
    app.close()

    fresh = InflowApplication(env=env, place=HOST)
    rebuilt = fresh.get_member(member.id)
    assert rebuilt.version == 62
    assert rebuilt.attended == [str(i) for i in ids]
    assert rebuilt.reported_on == date(2026, 1, 2) and rebuilt.status == "reported"
    assert rebuilt.hosted_in(2026) and not rebuilt.hosted_in(2025)
    # What did we know on day X: the record at an earlier version.
    assert fresh.repository.get(member.id, version=1).status == "expected"
    fresh.close()
