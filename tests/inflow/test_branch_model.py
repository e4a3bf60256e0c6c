"""Random sequences of branch changes (form, assign, move, remove, merge, dissolve, a member's own
departure) against the host's application on PostgreSQL, with the invariants checked after every
step (docs/flows.md, "Branches"):

- every member is in at most one branch, and the branches' member lists and the members' own
  records agree; merged and dissolved branches hold nobody;
- no mobile-member branch is below its floor except through members' own departures;
- no branch is above the norm without a recorded reason;
- a refused command changes nothing, and no command moves a member silently.

More examples: `LIANGDI_BRANCH_EXAMPLES=500 .venv/bin/pytest tests/inflow/test_branch_model.py`.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from services.inflow.application import InflowApplication
from services.inflow.domain.errors import DomainError
from services.inflow.domain.member import PRESENT, HostedMember, HostStatus
from shared.eventstore import eventsourcing_env, sqlalchemy_engine
from tests.inflow.support import HOST, ORIGIN

MINIMUM, MAXIMUM, MEMBERS = 3, 4, 10
TODAY, ARRIVED = date(2026, 11, 1), date(2026, 1, 2)
APPROVAL = {
    "approved_by": "李明",
    "approving_committee": "中共上海市浦东新区委员会组织部",
    "committee_place": HOST,
    "approved_on": date(2026, 2, 1),
}
WHY = {"reason": "调整", "recorded_by": "model", "today": TODAY}
EXAMPLES = int(os.environ.get("LIANGDI_BRANCH_EXAMPLES", "30"))


def _hosted(app: InflowApplication, n: int) -> UUID:
    member = HostedMember.expect(
        host_place=HOST,
        origin_member_id=str(uuid.uuid4()),
        origin_place=ORIGIN,
        name=f"党员{n}",
        resident_id="371326199001010011",
        sex="male",
        phone="13900000000",
        employer="张江软件园",
        host_address="浦东新区某路1号",
        departed_on=date(2026, 1, 1),
        certificate_no=f"371326-{n:06d}",
    )
    app.save(member)
    app.record_report(
        member.id,
        certificate_no=f"371326-{n:06d}",
        reported_on=ARRIVED,
        recorded_by="model",
        today=TODAY,
    )
    return member.id


class BranchModel(RuleBasedStateMachine):
    app: InflowApplication

    def __init__(self) -> None:
        super().__init__()
        self.members = [_hosted(self.app, n) for n in range(MEMBERS)]
        self.branches: list[UUID] = []
        self.departures: Counter[str] = Counter()  # branch id -> members who left the host
        self.known: tuple[dict[str, Any], dict[str, Any]] | None = None  # state since last act

    # --- state ---------------------------------------------------------------------------------

    def state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Branches and members as stored; read once between acts (the store is the slow part)."""
        if self.known is None:
            self.known = self.load()
        return self.known

    def load(self) -> tuple[dict[str, Any], dict[str, Any]]:
        branches = {}
        for branch_id in self.branches:
            b = self.app.get_branch(branch_id)
            branches[str(b.id)] = (b.kind, b.state, tuple(b.members), b.over_norm_reason)
        members = {}
        for member_id in self.members:
            m = self.app.get_member(member_id)
            members[str(m.id)] = (m.status, m.branch_id)
        return branches, members

    def attempt(self, command: Any, *args: Any, allowed: set[str], **kwargs: Any) -> bool:
        """Runs a command; a refusal must carry an expected code and change nothing."""
        before = self.state()
        self.known = None
        try:
            result = command(*args, **kwargs)
        except DomainError as refused:
            assert refused.code in allowed, (refused.code, refused.message)
            assert self.state() == before, f"{refused.code} changed state"
            return False
        if isinstance(result, UUID):
            self.branches.append(result)
        return True

    def unbranched_only(self, member_ids: list[UUID], before: dict[str, Any]) -> None:
        for member_id in member_ids:
            assert before[str(member_id)][1] is None, "a member of a branch was moved silently"

    def floor_kept(self, branch_id: UUID) -> None:
        kind, state, listed, _ = self.state()[0][str(branch_id)]
        assert kind != "mobile" or len(listed) >= MINIMUM, "an explicit act broke the floor"

    # --- rules ---------------------------------------------------------------------------------

    def pick(self, data: st.DataObject, branched: bool) -> UUID:
        """A member, mostly one for whom the act can succeed (unbranched or branched, present)."""
        members = self.state()[1]
        fit = [
            UUID(m)
            for m, (status, branch) in members.items()
            if status in PRESENT and (branch is not None) == branched
        ]
        if fit and data.draw(st.integers(0, 2)):
            return data.draw(st.sampled_from(fit))
        return data.draw(st.sampled_from(self.members))

    @rule(
        data=st.data(),
        size=st.integers(0, 6),
        kind=st.sampled_from(["mobile", "joint"]),
        over=st.booleans(),
    )
    def form(self, data: st.DataObject, size: int, kind: str, over: bool) -> None:
        ids = list(dict.fromkeys(self.pick(data, branched=False) for _ in range(size)))
        before = self.state()[1]
        formed = self.attempt(
            self.app.form_branch,
            name=f"支部{len(self.branches)}",
            kind=kind,
            basis="employer" if kind == "mobile" else "mixed",
            basis_value="张江软件园",
            member_ids=ids,
            **APPROVAL,
            recorded_by="model",
            over_norm_reason="园区集中" if over else None,
            today=TODAY,
            allowed={
                "branch.too_few_members",
                "branch.member_in_other_branch",
                "member.wrong_state",
                "branch.over_norm",
            },
        )
        if formed:
            self.unbranched_only(ids, before)

    @rule(data=st.data(), over=st.booleans())
    def assign(self, data: st.DataObject, over: bool) -> None:
        if not self.branches:
            return
        branch, member = data.draw(st.sampled_from(self.branches)), self.pick(data, False)
        before = self.state()[1]
        if self.attempt(
            self.app.assign_branch,
            branch,
            member,
            over_norm_reason="园区集中" if over else None,
            allowed={
                "branch.member_in_other_branch",
                "branch.already_member",
                "branch.closed",
                "branch.over_norm",
                "member.wrong_state",
            },
        ):
            self.unbranched_only([member], before)

    @rule(data=st.data(), over=st.booleans())
    def move(self, data: st.DataObject, over: bool) -> None:
        member = self.pick(data, branched=True)
        current = self.state()[1][str(member)][1]
        if not current or len(self.branches) < 2:
            return
        target = data.draw(st.sampled_from([b for b in self.branches if str(b) != current]))
        if self.attempt(
            self.app.move_branch_member,
            UUID(current),
            member,
            to_branch_id=target,
            over_norm_reason="园区集中" if over else None,
            **WHY,
            allowed={
                "branch.below_minimum",
                "branch.over_norm",
                "branch.closed",
                "branch.not_member",
            },
        ):
            self.floor_kept(UUID(current))

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        member = self.pick(data, branched=True)
        current = self.state()[1][str(member)][1]
        branch = (
            UUID(current)
            if current
            else data.draw(st.sampled_from(self.branches or [uuid.uuid4()]))
        )
        if self.attempt(
            self.app.remove_branch_member,
            branch,
            member,
            **WHY,
            allowed={
                "branch.below_minimum",
                "branch.not_member",
                "branch.closed",
                "branch.not_found",
            },
        ):
            self.floor_kept(branch)

    @rule(data=st.data(), over=st.booleans())
    def merge(self, data: st.DataObject, over: bool) -> None:
        if not self.branches:
            return
        branch, into = (
            data.draw(st.sampled_from(self.branches)),
            data.draw(st.sampled_from(self.branches)),
        )
        self.attempt(
            self.app.merge_branch,
            branch,
            into_branch_id=into,
            over_norm_reason="合并后暂超" if over else None,
            **WHY,
            allowed={"branch.closed", "branch.merge_into_self", "branch.over_norm"},
        )

    @rule(data=st.data())
    def dissolve(self, data: st.DataObject) -> None:
        if self.branches:
            branch = data.draw(st.sampled_from(self.branches))
            self.attempt(self.app.dissolve_branch, branch, **WHY, allowed={"branch.closed"})

    @rule(data=st.data(), now=st.integers(0, 3))
    def depart(self, data: st.DataObject, now: int) -> None:
        """The member's own departure from the host: a fact that may break the floor (rarer than
        the other acts, or members would all have left before much else happened)."""
        if now:
            return
        member = self.pick(data, branched=True)
        branch = self.state()[1][str(member)][1]
        left = self.attempt(
            self.app.record_leaving,
            member,
            left_on=date(2026, 10, 1),
            reason="returned_home",
            today=TODAY,
            allowed={"member.wrong_state"},
        )
        if left and branch:
            self.departures[branch] += 1

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def invariants(self) -> None:
        branches, members = self.state()
        listed = Counter(m for _, _, in_branch, _ in branches.values() for m in in_branch)
        assert all(n == 1 for n in listed.values()), "a member is in two branches"
        for branch_id, (kind, state, in_branch, over_norm) in branches.items():
            assert state == "active" or not in_branch, "a closed branch holds members"
            for member_id in in_branch:
                status, branch_of_member = members[member_id]
                assert status in PRESENT and branch_of_member == branch_id, "records disagree"
            if kind == "mobile" and state == "active":
                assert len(in_branch) + self.departures[branch_id] >= MINIMUM, "below the floor"
            assert len(in_branch) <= MAXIMUM or over_norm, "above the norm without a reason"
        for member_id, (status, branch_id) in members.items():
            if status == HostStatus.LEFT:
                assert member_id not in listed, "a departed member is still listed"
            elif branch_id is not None:
                assert member_id in branches[branch_id][2], "member names a branch not listing it"


def test_branch_changes_keep_the_invariants(pg_database_url: str) -> None:
    sqlalchemy_engine(pg_database_url).dispose()  # creates the schema
    app = InflowApplication(
        env=eventsourcing_env(pg_database_url),
        place=HOST,
        branch_minimum=MINIMUM,
        branch_maximum=MAXIMUM,
    )
    try:
        BranchModel.app = app
        run_state_machine_as_test(
            BranchModel,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=20,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        app.close()
