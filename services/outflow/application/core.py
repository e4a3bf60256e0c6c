"""The base of the origin county's application: loading, errors, dates, conflict retries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from copy import copy, deepcopy
from datetime import date
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.persistence import IntegrityError, Recording

from services.outflow.application.rules import OutflowRules
from services.outflow.domain.assessment import Assessment
from services.outflow.domain.certificates import CertificateRegister, register_id_for
from services.outflow.domain.fund import AssistanceFund
from services.outflow.domain.member import MobileMember, member_id_for
from services.outflow.domain.payouts import PayoutApplication
from shared.domain_errors import Conflict, NotFound
from shared.eventsourced import LiangdiApplication
from shared.group_commit import GroupCommit
from shared.security.identity import DEV_IDENTITY_KEY
from shared.security.identity import person_key as keyed_person
from shared.validation.bounds import china_today

T = TypeVar("T")


class NotFoundError(NotFound, LookupError):
    """A named record does not exist; ``code`` is stable (``member.not_found``, ...)."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code)


class MemberNotFound(NotFoundError):
    def __init__(self, member_id: object):
        super().__init__("member.not_found", f"no member {member_id}")


class MemberAlreadyRegistered(Conflict):
    """The ID number is already in the record: one person, one member record."""

    def __init__(self, member_id: object):
        super().__init__(f"member {member_id} is already registered", "member.already_registered")
        self.member_id = member_id


class _Waiting(Generic[T]):
    """A write that issues a certificate number, waiting for the register's turn."""

    def __init__(
        self, decide: Callable[[CertificateRegister], tuple[Any, T]], reads: tuple[UUID, ...]
    ):
        self.decide, self.reads = decide, reads  # reads: the aggregates `decide` will get
        self.woken = threading.Event()  # decided, or this caller leads the next turn
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None

    def finish(self, result: T | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True
        self.woken.set()

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class OutflowCore(LiangdiApplication):
    name = "outflow"
    snapshotting_intervals = {
        MobileMember: 50,
        CertificateRegister: 200,
        AssistanceFund: 100,
        Assessment: 20,
        PayoutApplication: 20,
    }
    #: How often a write that must see the latest state (numbering, fund) is retried on conflict.
    conflict_retries = 8

    def __init__(
        self,
        env: dict[str, Any] | None = None,
        *,
        place: str,
        rules: OutflowRules | None = None,
        mobile_after_months: int | None = None,
        identity_key: str = DEV_IDENTITY_KEY,
    ):
        super().__init__(env=env)
        # Writes that re-decide on a conflict (`_retrying`) take turns here, in this process,
        # instead of racing each other to the store and retrying.
        self._hot = threading.RLock()
        # The certificate register as this process last saved it, used in turn (`_retrying`).
        self._register_kept: CertificateRegister | None = None
        self._register_out: CertificateRegister | None = None
        # Numbering writes that arrive while one is in its turn wait here for the next turn.
        self._queue: list[_Waiting[Any]] = []
        self._queue_lock = threading.Lock()
        self._leading = False
        self._group = GroupCommit(self.events.put)
        self.place = place
        self._identity_key = identity_key
        self.rules = rules or OutflowRules()
        if mobile_after_months is not None:
            self.rules = OutflowRules(
                **{**self.rules.__dict__, "mobile_after_months": mobile_after_months}
            )

    def person_key(self, resident_id: str) -> str:
        return keyed_person(self._identity_key, self.place, resident_id)

    def member_id_of(self, resident_id: str) -> UUID:
        """The id this county's record of the person with `resident_id` has (or would have)."""
        return member_id_for(self.place, self.person_key(resident_id))

    def _write(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Commands' saves go through group commit (shared/group_commit.py); a save with
        tracking records (facts from the other place) is written as the library does."""
        if processing_event.tracking is not None or processing_event.saved_kwargs:
            return super()._write(processing_event)
        recordings = self._group.put(processing_event.events)
        if self.repository.cache and not self.repository.fastforward:  # as the library does
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return recordings

    def get_member(self, member_id: UUID, as_of_version: int | None = None) -> MobileMember:
        try:
            return self.repository.get(member_id, version=as_of_version)
        except AggregateNotFoundError:
            raise MemberNotFound(member_id) from None

    def _find(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    @staticmethod
    def _today(today: date | None) -> date:
        return today or china_today()

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Runs ``attempt`` (load, decide, save) again when another writer won the race.

        Only for writes whose decision is re-made from fresh state on every attempt (the next
        certificate number, the fund's available money); plain edits of one member are not
        retried: the loser gets 409 and decides for itself.

        They all save one of a few aggregates of the whole place (the certificate register, the
        fund): concurrent ones would nearly all conflict and retry, each retry another read and
        another turn at the event table's lock. Taken in turn here, a conflict is left only with
        another instance of the service, which the retries still cover.
        """
        with self._hot:
            for remaining in range(self.conflict_retries, -1, -1):
                self._register_out = None
                try:
                    result = attempt()
                except IntegrityError:
                    self._register_kept = None  # another instance moved it on: read it again
                    if remaining == 0:
                        raise
                    continue
                except BaseException:
                    self._register_kept = None
                    raise
                out = self._register_out
                if out is not None and not out.pending_events:  # saved, or left as it was
                    self._register_kept = out
                return result
        raise AssertionError("unreachable")

    def _certificate_register(self) -> CertificateRegister:
        """The county's certificate register, for a write taking its turn (`_retrying`).

        Numbers are issued one at a time in this process, so the copy it saved last is current
        unless another instance of the service issued one since: then the save conflicts on the
        register's version and the retry reads the store. Reading the store on every issue
        would be one more round trip inside the turn that every departure waits for.
        """
        kept = self._register_kept
        if kept is not None:
            register = deepcopy(kept)
        else:
            found = self._find(register_id_for(self.place))
            register = found if found is not None else CertificateRegister(self.place)
        self._register_out = register
        return register

    def _numbering(
        self, decide: Callable[[CertificateRegister], tuple[Any, T]], reads: tuple[UUID, ...] = ()
    ) -> T:
        """Runs a write that issues the next certificate number (a departure, a reissue, a move
        with a new certificate). `decide(register)` loads its member, decides, issues the
        number and returns (the member, the caller's result), saving nothing.

        One caller at a time leads a turn. The writes that arrive meanwhile queue, and the next
        turn decides them all, in order, on one copy of the register, and saves them in one
        transaction: numbering would otherwise be one transaction at a time for the whole
        county. A refused write leaves the register and the others as they were; a conflict
        (another instance numbered meanwhile, a member edited) decides the turn again from the
        store (`_retrying`).
        """
        me: _Waiting[T] = _Waiting(decide, reads)
        with self._queue_lock:
            self._queue.append(me)
            leads, self._leading = not self._leading, True
        if not leads:
            me.woken.wait()  # until decided by a turn, or handed the lead
        if not me.done:
            with self._queue_lock:
                turn, self._queue = self._queue, []
            try:
                with self._hot:
                    self._decide_together(turn)
            finally:
                for waiting in turn:  # none left waiting, whatever went wrong
                    if not waiting.done:
                        waiting.finish(error=RuntimeError("numbering turn failed"))
                with self._queue_lock:
                    if self._queue:
                        self._queue[0].woken.set()  # it leads the next turn
                    else:
                        self._leading = False
        return me.outcome()

    def _decide_together(self, turn: list[_Waiting[Any]]) -> None:
        def attempt() -> list[tuple[Any, BaseException | None]]:
            register = self._certificate_register()
            changed: dict[UUID, Any] = {}
            outcomes: list[tuple[Any, BaseException | None]] = []
            # The turn's members in one query, not one round trip after another in the turn
            # that every departure of the county waits for.
            known = self.short_histories({i for waiting in turn for i in waiting.reads})
            # Each write reads the members as the earlier ones in the turn left them.
            with self.repository.batch(changed, set(), known):  # type: ignore[attr-defined]
                for waiting in turn:
                    trial = deepcopy(register)
                    try:
                        member, result = waiting.decide(trial)
                    except Exception as refused:  # this caller's own answer; the turn goes on
                        outcomes.append((None, refused))
                        continue
                    register, changed[member.id] = trial, member
                    outcomes.append((result, None))
            self._register_out = register
            if changed:
                self.save(*changed.values(), register)
            return outcomes

        try:
            outcomes = self._retrying(attempt)
        except Exception as failed:  # the turn's save failed for all of them
            for waiting in turn:
                waiting.finish(error=copy(failed))  # one each: raised in many threads
            return
        for waiting, (result, error) in zip(turn, outcomes, strict=True):
            waiting.finish(result, error)
