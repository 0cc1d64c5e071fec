"""One deadline per request, carried to every upstream call without new parameters (ADR 0024).

The gateway starts a :class:`RequestDeadline` for each GraphQL request (:func:`start`); it lives in a
context variable, so every upstream call made while serving that request, in whatever task, sees it,
and adapters need no new parameters. A request's upstream calls come in **waves**
(:class:`Wave`), each needing the answers of the one before:

1. ``DECISION``: the consent gate's facts (blocks, treatment relation, powers of attorney, CPR, then
   SOR sub-units);
2. ``FIRST``: the resolvers' calls (person, GP assignment, master card, appointment and plan searches,
   the DDS document index);
3. ``SECOND``: calls that need a first call's answer: the practice after the GP assignment, the
   register flags after the master card, the DDS documents after the index.

A call may take its source's own total deadline (``SourceConfig.timeout_s``) or the time its wave has
left, whichever is shorter. A wave has the request's time left minus a reserve of the least time a
call gets (``min_call_s``) for each wave still to come, so a slow decision input cannot starve the
sections after it below a call's minimum, yet may use the rest (ADR 0024 says why not an even
split). A call whose wave has less than ``min_call_s`` left never starts: it fails at once with
:class:`~sources.errors.SourceSkipped` (``SOURCE_TIMEOUT`` naming the source), and the answer names
the section it cut. Outside a request (the Min Log export, the token issuer's keys) there is no
request deadline, only each source's own.

Times are read from :func:`sources.clock.monotonic` (tests move it).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import IntEnum

from sources import clock
from sources.errors import SourceSkipped


class Wave(IntEnum):
    """Where in a request's sequence of upstream calls a call is (see the module)."""

    DECISION = 0
    FIRST = 1
    SECOND = 2


LAST_WAVE = Wave.SECOND
WAVES = len(Wave)
"""How many waves a request has at most: a deadline must leave every wave its least time."""


@dataclass(frozen=True, slots=True)
class RequestDeadline:
    """The deadline of the request being served, and the wave the current call belongs to."""

    ends_at: float
    """When the request's upstream work must be done, on :func:`sources.clock.monotonic`'s clock."""
    min_call_s: float
    """The least time a call gets: one that would get less never starts."""
    wave: Wave = Wave.FIRST

    def left(self) -> float:
        """Seconds until the request's deadline (negative once past)."""
        return self.ends_at - clock.monotonic()

    def wave_left(self) -> float:
        """Seconds this wave may still use: the time left minus the reserve of each wave after it."""
        return self.left() - (LAST_WAVE - self.wave) * self.min_call_s


@dataclass(frozen=True, slots=True)
class CallBudget:
    """How long one upstream call may take, and why."""

    seconds: float
    """The call's total deadline: its source's timeout, or its wave's time left if shorter."""
    capped: bool
    """The request's deadline, not the source's own timeout, set ``seconds`` (running out then says
    nothing about the source, so its breaker does not count it)."""
    min_attempt_s: float
    """A retry is made only when at least this much of ``seconds`` is left after its wait."""


_CURRENT: contextvars.ContextVar[RequestDeadline | None] = contextvars.ContextVar(
    "patientoverblik_request_deadline", default=None
)


def current() -> RequestDeadline | None:
    """The deadline of the request being served, ``None`` outside a request."""
    return _CURRENT.get()


def start(seconds: float, min_call_s: float) -> contextvars.Token[RequestDeadline | None]:
    """Start the current request's deadline ``seconds`` from now; reset with the returned token."""
    return _CURRENT.set(RequestDeadline(clock.monotonic() + seconds, min_call_s))


def reset(token: contextvars.Token[RequestDeadline | None]) -> None:
    """End what :func:`start` (or :func:`none`) set."""
    _CURRENT.reset(token)


def none() -> contextvars.Token[RequestDeadline | None]:
    """Clear the deadline for the current context (the start of a request, before it has one)."""
    return _CURRENT.set(None)


@contextmanager
def in_wave(wave: Wave) -> Iterator[None]:
    """Run the block's upstream calls (and the tasks it starts) as calls of ``wave``."""
    deadline = _CURRENT.get()
    if deadline is None or deadline.wave is wave:
        yield
        return
    token = _CURRENT.set(replace(deadline, wave=wave))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def outside_request() -> contextvars.Context:
    """A copy of the current context without the request's deadline: for work shared across requests
    (a token fetch many requests wait for) that must outlive the request that started it."""
    context = contextvars.copy_context()
    context.run(_CURRENT.set, None)
    return context


def call_budget(source: str, timeout_s: float) -> CallBudget:
    """The budget of one call to ``source`` whose own total deadline is ``timeout_s``.

    Raises :class:`~sources.errors.SourceSkipped` when the request's deadline leaves the call's wave
    less than the least time a call gets: the call must not start.
    """
    deadline = _CURRENT.get()
    if deadline is None:
        return CallBudget(timeout_s, capped=False, min_attempt_s=0.0)
    left = deadline.wave_left()
    if left < deadline.min_call_s:
        raise SourceSkipped(source, "the request's deadline left no time for this call")
    if left < timeout_s:
        return CallBudget(left, capped=True, min_attempt_s=deadline.min_call_s)
    return CallBudget(timeout_s, capped=False, min_attempt_s=deadline.min_call_s)
