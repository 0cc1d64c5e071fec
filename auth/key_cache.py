"""The issuer's usable keys, kept fresh in the background while the last good set keeps serving.

Stale-while-revalidate (RFC 5861's idea, applied to the key set), with one fetch at a time:

- younger than ``refresh_s``: the cached set answers;
- older, but younger than ``max_age_s``: the cached set still answers at once, and one background
  fetch is started (unless one runs, or the last attempt began less than ``retry_s`` ago). No request
  ever waits for it;
- no set yet, or older than ``max_age_s``: the request waits for the one running fetch (starting it
  when due) at most ``wait_s``; when it fails, keys are "unavailable" (HTTP 401), never an error 500;
- a token naming a key the set does not hold (:meth:`KeyCache.after_unknown_key`) waits at most
  ``wait_s`` for the running fetch, or starts one unless an unknown key started one less than
  ``retry_s`` ago: a key the issuer has just rotated to is found at once, and invented key ids cannot
  make the gateway ask the issuer more than once per ``retry_s``. The answer says whether a fresh
  set came in (:class:`Refresh`), so a refusal tells "the issuer does not publish this key" from
  "the issuer's keys could not be fetched";
- after a failed fetch, the next one (in the background, or for a request with no usable set)
  starts ``retry_s`` later at the earliest; until then a request with no usable set fails at once.

A fetched set with no usable key at all is treated as a failed fetch: the last good set keeps
serving until ``max_age_s``. A set with at least one usable key replaces the cached one (so a key the
issuer withdrew stops verifying at the next refresh). Times come from ``clock`` (seconds,
monotonic), which tests replace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from auth.errors import AuthenticationFailed
from auth.keys import UsableKeys

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyCachePolicy:
    """How long the issuer's key set is trusted, in seconds."""

    refresh_s: float = 300.0
    """Age after which a background refresh is started."""
    max_age_s: float = 3600.0
    """Age after which the cached set is no longer used (requests wait for a fetch)."""
    retry_s: float = 5.0
    """Least time between two fetch attempts after a failure, or for an unknown key id."""
    wait_s: float = 2.0
    """Longest a request waits for a fetch (the fetch itself has the source's deadline too)."""


class Refresh(StrEnum):
    """What became of the fetch a token naming an unknown key waited for."""

    FETCHED = "fetched"
    """A fresh set came in: the key is not one the issuer publishes."""
    FAILED = "failed"
    """The fetch failed, gave no usable key, or did not finish within ``wait_s``."""
    NOT_TRIED = "not_tried"
    """An unknown key started a fetch less than ``retry_s`` ago: the set is as last fetched."""


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """The set to verify with after an unknown key, and what became of the fetch for it."""

    keys: UsableKeys
    refresh: Refresh


class KeyCache:
    """The usable keys of the issuer's latest good key set; see the module for the rules."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[UsableKeys]],
        policy: KeyCachePolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._policy = policy
        self._clock = clock
        self._keys: UsableKeys | None = None
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        """When the last attempt that failed started (``None`` once one succeeds)."""
        self._unknown_key_at: float | None = None
        self._running: asyncio.Task[None] | None = None
        self.fetches = 0
        """Fetch attempts started so far (tests count them)."""
        self._good_fetches = 0

    @property
    def keys(self) -> UsableKeys | None:
        """The cached set, whatever its age (``None`` before the first good fetch)."""
        return self._keys

    async def current(self) -> UsableKeys:
        """The set to verify with now; raises :class:`AuthenticationFailed` when none can be had."""
        age = self._clock() - self._fetched_at
        if self._keys is not None and age <= self._policy.max_age_s:
            if age > self._policy.refresh_s:
                self._start_when_due(unknown_key=False)
            return self._keys
        await self._wait(self._start_when_due(unknown_key=False))
        return self._usable()

    async def after_unknown_key(self) -> KeyLookup:
        """The set after at most one bounded wait for a fresh one (a token named a key we do not hold),
        and whether a fresh one came in; raises :class:`AuthenticationFailed` when no set can be used."""
        good_before = self._good_fetches
        running = self._start_when_due(unknown_key=True)
        await self._wait(running)
        if self._good_fetches > good_before:
            refresh = Refresh.FETCHED
        elif running is not None:
            refresh = Refresh.FAILED
        else:
            refresh = Refresh.NOT_TRIED
        return KeyLookup(self._usable(), refresh)

    async def aclose(self) -> None:
        """Stop a running fetch (on shutdown)."""
        if self._running is not None:
            self._running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._running

    def _usable(self) -> UsableKeys:
        if self._keys is None or self._clock() - self._fetched_at > self._policy.max_age_s:
            raise AuthenticationFailed("token issuer keys are unavailable")
        return self._keys

    def _start_when_due(self, *, unknown_key: bool) -> asyncio.Task[None] | None:
        """The running fetch, or a new one when the last of its kind is old enough; ``None`` otherwise."""
        if self._running is not None:
            return self._running
        now = self._clock()
        last = self._unknown_key_at if unknown_key else self._failed_at
        if last is not None and now - last < self._policy.retry_s:
            return None
        if unknown_key:
            self._unknown_key_at = now
        self.fetches += 1
        self._running = asyncio.create_task(self._refresh())
        return self._running

    async def _wait(self, running: asyncio.Task[None] | None) -> None:
        """Wait for ``running`` at most ``wait_s``; waiting never cancels the shared fetch."""
        if running is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(running), self._policy.wait_s)

    async def _refresh(self) -> None:
        started = self._clock()
        try:
            keys = await self._fetch()
        except Exception as exc:  # a failed refresh must never fail a request; it is logged
            _log.warning("token issuer keys could not be fetched (%s)", type(exc).__name__)
            self._failed_at = started
            return
        finally:
            self._running = None
        if keys.skipped:
            reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(keys.skipped.items()))
            _log.warning("token issuer key set: %d keys used, skipped %s", len(keys.keys), reasons)
        if not keys.keys:
            self._failed_at = started
            return
        self._keys, self._fetched_at, self._failed_at = keys, self._clock(), None
        self._good_fetches += 1
