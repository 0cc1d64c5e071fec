"""The polls of a running subscription, and how many subscriptions each caller runs (ADR 0023).

:class:`PollControl` is what the subscription's resolver drives (:class:`resolvers.context.StreamView`):
between two polls it waits ``poll_interval_s`` (or until the token expires, whichever comes first); each
poll gets fresh loaders (no answer of one poll is reused by the next), its own deadline
(``DEADLINE__REQUEST_S``, as one HTTP request: :mod:`sources.deadline`) and a new access decision
(:class:`auth.stream.StreamDecisions`), before anything is fetched. :class:`OpenSubscriptions` counts the
subscriptions running in this process per caller.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.context import RequestContext
from gateway.settings_resilience import DeadlineSettings
from gateway.settings_subscriptions import SubscriptionSettings
from resolvers.loaders import Loaders
from resolvers.protection import Protections
from sources import deadline
from sources.deadline import RequestDeadline
from sources.registry import Sources

EXPIRY_MARGIN_S = 0.05
"""Waiting for the token's expiry sleeps this much longer, so the poll after it is surely refused (the loop's
clock and the wall clock may differ by a hair)."""


@dataclass
class PollControl:
    """One subscription's polls (see the module); satisfies :class:`resolvers.context.StreamView`."""

    context: RequestContext
    sources: Sources
    settings: SubscriptionSettings
    deadline: DeadlineSettings
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    polls: int = 0
    """Polls started (each one decision and at most one search per endpoint)."""
    _deadline: contextvars.Token[RequestDeadline | None] | None = None

    @property
    def overlap_s(self) -> float:
        return self.settings.overlap_s

    async def next_poll(self) -> datetime:
        """Wait for the next poll, then start it (:meth:`resolvers.context.StreamView.next_poll`)."""
        decisions = self.context.stream_decisions
        if decisions is None:
            raise RuntimeError("access was not decided for this subscription")
        wait = self.settings.poll_interval_s
        expires_at = self.context.actor.expires_at
        if expires_at is not None:
            wait = min(wait, max(0.0, (expires_at - self.now()).total_seconds()) + EXPIRY_MARGIN_S)
        await asyncio.sleep(wait)
        began = self.now()
        if self._deadline is not None:
            deadline.reset(self._deadline)
        self._deadline = deadline.start(self.deadline.request_s, self.deadline.min_call_s)
        self.context.loaders = Loaders.for_request(self.sources)
        self.context.protections = Protections()
        self.context.partial_errors = []
        self.polls += 1
        self.context.access_plan = None  # undecided until the decision below: resolvers fail closed
        self.context.access_plan = await decisions.decide()
        return began

    async def record(self) -> None:
        """Write the record of the event about to be sent (:meth:`auth.stream.StreamDecisions.record`)."""
        decisions = self.context.stream_decisions
        if decisions is None:
            raise RuntimeError("access was not decided for this subscription")
        await decisions.record()


@dataclass
class OpenSubscriptions:
    """Subscriptions running in this process, per caller (the key rate limits count under)."""

    running: dict[str, int] = field(default_factory=dict)

    def take(self, key: str, maximum: int) -> bool:
        """Count one more subscription for ``key``, unless it already runs ``maximum``."""
        if self.running.get(key, 0) >= maximum:
            return False
        self.running[key] = self.running.get(key, 0) + 1
        return True

    def release(self, key: str) -> None:
        """One subscription of ``key`` ended."""
        left = self.running.get(key, 0) - 1
        if left > 0:
            self.running[key] = left
        else:
            self.running.pop(key, None)
