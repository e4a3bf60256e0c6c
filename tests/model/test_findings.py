"""What the model of the two places found, each as its smallest sequence of steps.

Each test drives the real application services of one origin and two hosts (tests/model/places.py)
and delivers every exchanged fact; no fact may be dead-lettered and each flow must still close.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID

import pytest

from services.outflow.domain.arrivals import arrival_id_for
from services.outflow.domain.errors import WrongState
from shared.validation.bounds import china_today
from tests.model.places import ORIGIN, RECEIVING, Places, person

HOST, OTHER_HOST = "310115", "310112"


@pytest.fixture
def places() -> Iterator[Places]:
    found = Places()
    yield found
    found.close()


def day(days_ago: int) -> date:
    return china_today() - timedelta(days=days_ago)


def departed(places: Places, *, reported: bool) -> tuple[UUID, UUID]:
    """Person 0 registered, departed to HOST 60 days ago, and (if `reported`) reported there."""
    origin = places.origin.app
    member_id = origin.register_member(**person(0), recorded_by="origin")
    origin.record_departure(
        member_id,
        host_place=HOST,
        employer="上海建工集团",
        host_address="上海市某路1号",
        reason="务工",
        expected_months=8,
        departed_on=day(60),
        recorded_by="origin",
    )
    places.deliver_all()
    host = places.hosts[HOST].app
    record = host.find_by_origin_member(str(member_id))
    assert record is not None
    if reported:
        host.record_report(
            record.id,
            certificate_no=record.certificate_no,
            reported_on=day(50),
            recorded_by="host",
        )
        places.deliver_all()
    return member_id, record.id


def no_dead_letters(places: Places) -> None:
    assert not places.dead, [(d.message, d.reason) for d in places.dead]


def test_a_letter_issued_before_the_host_report_reaches_the_host(places: Places) -> None:
    """The origin accepts a transfer letter for a member who has not reported at the host yet
    (应转尽转 at departure); the host dead-letters it (`inbound.not_hosted_here: member is
    expected here`), so it can never return the receipt, and voiding the letter later is
    dead-lettered too (`inbound.unknown_letter`)."""
    member_id, _ = departed(places, reported=False)
    places.origin.app.issue_letter(
        member_id,
        receiving_organisation=RECEIVING[HOST],
        issued_on=day(40),
        validity_days=None,
        recorded_by="origin",
    )
    places.deliver_all()
    no_dead_letters(places)


def test_b_a_host_fact_crossing_the_paper_receipt_is_not_dead_lettered(places: Places) -> None:
    """The host records an activity while the origin records the receipt on paper: the
    activity (taken part while the origin still owned the record) is dead-lettered at the
    origin (`member.closed`)."""
    member_id, record_id = departed(places, reported=True)
    origin, host = places.origin.app, places.hosts[HOST].app
    letter_no = origin.issue_letter(
        member_id,
        receiving_organisation=RECEIVING[HOST],
        issued_on=day(40),
        validity_days=None,
        recorded_by="origin",
    )
    places.deliver_all()
    host.record_activity(
        kind="study_session",
        title="党课",
        held_on=day(30),
        organiser="流动党员党支部",
        attendee_ids=[record_id],
        recorded_by="host",
    )
    origin.record_receipt(
        member_id,
        letter_no,
        received_on=day(20),
        receiving_organisation=RECEIVING[HOST],
        recorded_by="origin",
    )
    places.deliver_all()
    no_dead_letters(places)


def test_c_a_request_crossing_a_move_between_hosts_still_closes(places: Places) -> None:
    """The old host raises an assistance request while the origin records a move to another
    host: the request is dead-lettered at the origin (`inbound.not_your_member`) and stays
    "requested" at the old host for good."""
    member_id, record_id = departed(places, reported=True)
    old_host = places.hosts[HOST].app
    request_id = old_host.request_assistance(
        record_id,
        amount_fen=1_000,
        reason="因病致困",
        requested_on=day(30),
        requested_by="host",
    )
    places.origin.app.move_to_host(
        member_id,
        to_host_place=OTHER_HOST,
        moved_on=day(20),
        certificate="endorse",
        employer="闵行电子厂",
        host_address="上海市某路2号",
        recorded_by="origin",
    )
    places.deliver_all()
    no_dead_letters(places)
    assert places.origin.app._find(request_origin_id(request_id)) is not None


def request_origin_id(request_id: UUID) -> UUID:
    from services.outflow.domain.payouts import application_id_for

    return application_id_for(ORIGIN, f"host:{HOST}", str(request_id))


def test_d_no_letter_once_the_host_said_the_member_left(places: Places) -> None:
    """A letter issued after the host reported the member left could never be received there
    (it was dead-lettered, `member is left here`): the origin refuses it, as it refuses the
    receipt, until it records the return or the new place."""
    member_id, record_id = departed(places, reported=True)
    places.hosts[HOST].app.record_leaving(
        record_id, left_on=day(30), reason="moved_on", destination=OTHER_HOST
    )
    places.deliver_all()
    with pytest.raises(WrongState) as refused:
        places.origin.app.issue_letter(
            member_id,
            receiving_organisation=RECEIVING[HOST],
            issued_on=day(20),
            validity_days=None,
            recorded_by="origin",
        )
    assert refused.value.code == "transfer.member_left_host"
    places.deliver_all()
    no_dead_letters(places)


def test_e_a_member_back_at_the_host_they_left_can_be_confirmed(places: Places) -> None:
    """The host recorded that the member left; weeks later they report there again, unannounced
    (the origin still has them departed to this host). The origin confirms the arrival, and the
    host dead-letters the confirmation (`inbound.already_hosted`: the old, left record holds the
    member's id), so the walk-in stays unconfirmed at the host for good."""
    member_id, record_id = departed(places, reported=True)
    host = places.hosts[HOST].app
    host.record_leaving(record_id, left_on=day(40), reason="moved_on", destination="")
    places.deliver_all()
    someone = person(0)
    walk_in = host.record_unannounced_report(
        origin_place=ORIGIN,
        name=someone["name"],
        resident_id=someone["resident_id"],
        phone=someone["phone"],
        reported_on=day(20),
        recorded_by="host",
    )
    places.deliver_all()
    places.origin.app.confirm_arrival(arrival_id_for(HOST, str(walk_in)), recorded_by="origin")
    places.deliver_all()
    no_dead_letters(places)
    record = host.get_member(walk_in)
    assert record.confirmed and record.origin_member_id == str(member_id)


def test_f_a_paper_receipt_crossing_the_hosts_leave_leaves_an_owner(places: Places) -> None:
    """The host records that the member left while the origin records the receipt on paper
    (neither knows of the other yet): the origin closes its record (transferred), the host
    dead-letters the receipt (`inbound.transfer.not_hosted: member is left here`), and nobody
    owns the member."""
    member_id, record_id = departed(places, reported=True)
    origin, host = places.origin.app, places.hosts[HOST].app
    letter_no = origin.issue_letter(
        member_id,
        receiving_organisation=RECEIVING[HOST],
        issued_on=day(40),
        validity_days=None,
        recorded_by="origin",
    )
    places.deliver_all()
    host.record_leaving(record_id, left_on=day(30), reason="moved_on", destination="")
    origin.record_receipt(
        member_id,
        letter_no,
        received_on=day(20),
        receiving_organisation=RECEIVING[HOST],
        recorded_by="origin",
    )
    places.deliver_all()
    no_dead_letters(places)
    origin_owns = origin.get_member(member_id).status != "transferred"
    host_owns = host.get_member(record_id).status == "received"
    assert origin_owns != host_owns, "the member must be owned by exactly one place"


def test_g_the_hosts_receipt_wins_over_a_void_that_crossed_it(places: Places) -> None:
    """The host receives the member on the letter while the origin voids it: the origin lets
    go on the receipt, the host ignores the void, and one place (the host) owns the member."""
    member_id, record_id = departed(places, reported=True)
    origin, host = places.origin.app, places.hosts[HOST].app
    letter_no = origin.issue_letter(
        member_id,
        receiving_organisation=RECEIVING[HOST],
        issued_on=day(40),
        validity_days=None,
        recorded_by="origin",
    )
    places.deliver_all()
    host.return_transfer_receipt(record_id, letter_no=letter_no, received_on=day(30))
    origin.void_letter(member_id, letter_no, reason="改开新介绍信", recorded_by="origin")
    places.deliver_all()
    no_dead_letters(places)
    assert origin.get_member(member_id).status == "transferred"
    assert host.get_member(record_id).status == "received"


def test_h_an_overdue_flag_crossing_the_return_home_is_history(places: Places) -> None:
    """The host flags overdue reporting while the origin records the member's return home: the
    flag is from the host the member came home from, not a fact the origin must refuse."""
    member_id, _ = departed(places, reported=False)
    places.hosts[HOST].app.flag_overdue_reporting(
        [places.hosts[HOST].app.find_by_origin_member(str(member_id)).id], as_of=day(0)
    )
    places.origin.app.return_home(member_id, returned_on=day(1), recorded_by="origin")
    places.deliver_all()
    no_dead_letters(places)
    assert places.origin.app.get_member(member_id).status == "returned"
