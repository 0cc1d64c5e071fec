"""Per-client rate limits: requests and query cost per window, in-process or shared in Redis.

Each caller has a :class:`Budget` (its client registration's, or the defaults): at most ``requests``
requests and ``cost`` points of static query cost (:mod:`gateway.cost`) per ``window_s`` seconds.
The windows are sliding-window counters of the ``limits`` library (two fixed windows weighted by
overlap, so a burst at a window boundary does not double the rate), kept in process memory by
default and in Redis when ``PATIENTOVERBLIK_REDIS_URL`` is set; there ``limits`` updates a window in
one Lua script, so every gateway process sharing the Redis enforces one limit (ADR 0018).

Over a budget is :class:`RateLimited` with the seconds until the window has room again: code
``RATE_LIMITED``, HTTP 429, ``Retry-After``, and ``extensions`` ``limit``, ``maximum`` and
``retryAfter``. If Redis cannot be reached within its socket timeout the request is let through: the
limiter protects capacity and must not become the outage itself. The store's state is logged when it
changes, once (a WARNING when it stops answering, an INFO with the number of checks skipped when it answers
again; no personal data), as readiness does, and counted: ``patientoverblik_rate_limit_store_available``
and ``patientoverblik_rate_limit_unchecked_total{limit}``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, assert_never

import redis.asyncio as aioredis
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from gateway.limits import OverLimit
from gateway.metrics import RATE_LIMIT_STORE_AVAILABLE, RATE_LIMIT_UNCHECKED, RATE_LIMITED

logger = logging.getLogger("patientoverblik.rate_limit")

KEY_PREFIX: Final = "patientoverblik"
"""The prefix of every key in Redis."""
REDIS_TIMEOUT_S: Final = 0.5
"""Longest a request waits for Redis (connect or answer) before it is let through."""


class Window(StrEnum):
    """The two things counted per caller."""

    REQUESTS = "requests"
    COST = "cost"


@dataclass(frozen=True, slots=True)
class Budget:
    """What one caller may spend: per operation, and per window."""

    max_cost: int = 5_000
    """The static cost one operation may have (``QUERY_TOO_COMPLEX`` with ``limit: maxCost`` above it)."""
    requests: int = 600
    """Requests per window (each POST to ``/graphql``)."""
    cost: int = 100_000
    """Points of static cost per window."""
    window_s: int = 60
    """The window's length in seconds."""

    def item(self, window: Window) -> RateLimitItem:
        """The ``limits`` item for ``window``."""
        amount = self.requests if window is Window.REQUESTS else self.cost
        return RateLimitItemPerSecond(amount, self.window_s)


class RateLimited(OverLimit):
    """Over a budget's window: ``limit`` is ``requestsPerWindow`` or ``costPerWindow`` (as in ``me.client.limits``),
    ``maximum`` the budget's amount, ``retry_after`` whole seconds until the window has room again (at least 1)."""

    def __init__(self, window: Window, budget: Budget, retry_after: int, amount: int = 1) -> None:
        maximum = budget.requests if window is Window.REQUESTS else budget.cost
        per = f"per {budget.window_s} s"
        match window:
            case Window.REQUESTS:
                message = f"Over the limit of {maximum} requests {per}; retry after {retry_after} s."
                limit = "requestsPerWindow"
            case Window.COST:
                message = (
                    f"The operation costs {amount} points, more than is left of the limit of {maximum} points of "
                    f"query cost {per}; retry after {retry_after} s."
                )
                limit = "costPerWindow"
            case _:
                assert_never(window)
        super().__init__(message, limit, maximum)
        self.window = window
        self.retry_after = retry_after

    def extensions(self) -> dict[str, object]:
        """The limit's fields and ``retryAfter``."""
        return {**super().extensions(), "retryAfter": self.retry_after}

    def headers(self) -> dict[str, str]:
        """The refusal's HTTP headers: ``Retry-After``."""
        return retry_after_headers(self.retry_after)


def retry_after_headers(seconds: int) -> dict[str, str]:
    """``Retry-After`` in whole seconds, for every HTTP 429."""
    return {"retry-after": str(seconds)}


def check_redis_url(url: str) -> str:
    """``url`` when redis-py can connect by it (scheme, host, port, database); ``ValueError`` otherwise.

    The one check, for the settings (``PATIENTOVERBLIK_REDIS_URL``) and :meth:`RateLimiter.open` alike.
    """
    if not url.startswith(("redis://", "rediss://")):
        raise ValueError("a Redis URL starts with redis:// or rediss://")
    aioredis.ConnectionPool.from_url(url)  # parses it; connects to nothing
    return url


def caller_key(label: str) -> str:
    """The key a caller is counted under: a digest of its label, so Redis holds no identities."""
    return hashlib.sha256(label.encode()).hexdigest()[:32]


class RateLimiter:
    """Sliding-window counters per caller and window, in one storage (memory or Redis)."""

    def __init__(self, storage: Storage, pool: aioredis.ConnectionPool | None = None) -> None:
        self._storage = storage
        self._pool = pool
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._available = True
        self._unchecked_since = 0
        """Checks (requests, cost) skipped since the store stopped answering."""
        RATE_LIMIT_STORE_AVAILABLE.set(1)

    @classmethod
    def open(cls, redis_url: str | None) -> RateLimiter:
        """In process memory, or shared in the Redis at ``redis_url`` (``redis://host:port/db``)."""
        if redis_url is None:
            return cls(MemoryStorage())
        check_redis_url(redis_url)
        pool = aioredis.ConnectionPool.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        storage = RedisStorage(
            f"async+{redis_url}",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=KEY_PREFIX,
            connection_pool=pool,  # type: ignore[arg-type]  # limits passes it on to redis-py
        )
        return cls(storage, pool)

    async def take(self, key: str, budget: Budget, window: Window, amount: int = 1) -> None:
        """Count ``amount`` against ``key``'s ``window``; :class:`RateLimited` when it does not fit."""
        if amount <= 0:
            return
        item = budget.item(window)
        try:
            fits = await self._limiter.hit(item, window.value, key, cost=amount)
            stats = None if fits else await self._limiter.get_window_stats(item, window.value, key)
        except StorageError as exc:
            self._unchecked(window, exc)
            return
        self._answered()
        if stats is None:
            return
        RATE_LIMITED.labels(window.value).inc()
        raise RateLimited(window, budget, max(1, math.ceil(stats.reset_time - time.time())), amount)

    def _unchecked(self, window: Window, exc: StorageError) -> None:
        """The store did not answer: the request goes through unchecked; the first of a run says so."""
        RATE_LIMIT_UNCHECKED.labels(window.value).inc()
        self._unchecked_since += 1
        if self._available:
            self._available = False
            RATE_LIMIT_STORE_AVAILABLE.set(0)
            logger.warning(
                "rate limit store unavailable: requests are let through unchecked until it answers again",
                extra={"error_class": type(exc).__name__},
            )

    def _answered(self) -> None:
        if not self._available:
            self._available = True
            RATE_LIMIT_STORE_AVAILABLE.set(1)
            logger.info("rate limit store available again", extra={"unchecked": self._unchecked_since})
            self._unchecked_since = 0

    async def aclose(self) -> None:
        """Close the Redis connections, or stop the in-memory store's expiry task."""
        if self._pool is not None:
            await self._pool.aclose()
        timer = getattr(self._storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()
