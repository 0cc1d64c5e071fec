"""Access for a subscription: decided when it starts, and again before every look at its sources (ADR 0023).

A subscription (``appointmentsChanged``) runs as long as its connection, while the patient's blocks,
the caller's treatment relation and the token can change. The consent gate decides it at the start as
it decides any operation (:mod:`auth.gate`) and leaves a :class:`StreamDecisions` on the context; the
subscription then asks it, before each poll of its sources:

- :meth:`StreamDecisions.decide`: the same operation decided again, from facts loaded now (blocks,
  treatment relation, powers of attorney: never kept between polls), into a fresh
  :class:`~auth.plan.AccessPlan`. A token past its ``exp`` raises :class:`~auth.errors.TokenExpired`;
  a refusal of anything the operation asks for is written to the access log as refused and raises its
  coded error, so the stream ends before anything is fetched for it;
- :meth:`StreamDecisions.record`: after the poll, before its event is sent: one access record of what
  the event carries (what the plan marked as returned). If it cannot be written, the event is not sent
  and the stream ends (``ACCESS_LOG_UNAVAILABLE``): no record, no data.

At the start only a refusal is recorded (:func:`record_start`): a subscription that may start has
shown nothing yet, and its events are recorded one by one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from auth.access_log import AccessLog
from auth.actor import Actor
from auth.errors import AuthError, TokenExpired
from auth.fields import ClientRegistration
from auth.operation import OperationRead
from auth.plan import AccessPlan
from auth.records import RequestRecords, outcome_of, start_records, write_records
from auth.telemetry import observe_plan, timed_access_log_write
from sources.audit import AccessOutcome

Planner = Callable[[OperationRead, date, ClientRegistration | None], Awaitable[AccessPlan]]
"""How the gate decides an operation it has read (:func:`auth.gate.build_plan` over the request's context)."""


@dataclass
class StreamDecisions:
    """The decisions of one subscription after its start: one per poll, each recorded when refused."""

    actor: Actor
    read: OperationRead
    """The operation as the gate read it at the start (patients, categories, fields the client may not select)."""
    registration: ClientRegistration | None
    plan_again: Planner
    access_log: AccessLog
    request_id: str
    query: str
    operation_name: str | None
    today: Callable[[], date]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    plan: AccessPlan | None = None
    """The plan of the current poll (``None`` before the first)."""

    def expired(self) -> bool:
        """Whether the caller's token has expired (a token without ``exp`` never does here)."""
        expires_at = self.actor.expires_at
        return expires_at is not None and self.now() >= expires_at

    async def decide(self) -> AccessPlan:
        """Decide the operation again from facts loaded now; the new plan.

        Raises :class:`~auth.errors.TokenExpired` once the token has expired (nothing asked), and the
        coded error of a refusal of anything the operation asks for, after recording the refusal.
        """
        if self.expired():
            raise TokenExpired("the token has expired, so the subscription ends; subscribe again with a new token")
        plan = await self.plan_again(self.read, self.today(), self.registration)
        observe_plan(plan)
        self.plan = plan
        refusal = refusal_of(plan)
        if refusal is not None:
            with timed_access_log_write():
                await write_records(plan, self.access_log, self._records())
            raise refusal
        return plan

    async def record(self) -> None:
        """Write the access record of the event about to be sent: what the current plan marked as returned.

        Raises :class:`~auth.errors.AccessRecordFailed` when it cannot be written (the event is then not sent).
        """
        if self.plan is None:
            raise RuntimeError("record() before decide()")
        with timed_access_log_write():
            await write_records(self.plan, self.access_log, self._records())

    def _records(self) -> RequestRecords:
        return start_records(self.request_id, self.query, self.operation_name)


def refusal_of(plan: AccessPlan) -> AuthError | None:
    """The coded error of the first refusal in ``plan`` of anything asked for; ``None`` when all may be seen.

    A category held back in part by blocks (``withheld``) is allowed: its filter keeps the blocked part
    out of every search.
    """
    for cpr in sorted(plan.patients):
        access = plan.patients[cpr]
        if not access.patient.allowed:
            return access.patient.error()
        for category in sorted(access.requested):
            decision = access.decision(category)
            if not decision.allowed:
                return decision.error()
    return None


async def record_start(plan: AccessPlan, log: AccessLog, request: RequestRecords) -> None:
    """The records of a subscription's start: its refusals (and security events) only."""
    refused = {cpr: a for cpr, a in plan.patients.items() if outcome_of(a) is AccessOutcome.REFUSED}
    await write_records(replace(plan, patients=refused), log, request)
