"""Per-client rate limits: requests and query cost per window, in-process or shared in Redis.

Each caller has a :class:`Budget` (its client registration's, or the defaults): at most ``requests``
requests and ``cost`` points of static query cost (:mod:`gateway.cost`) per ``window_s`` seconds.
The windows are sliding-window counters of the ``limits`` library (two fixed windows weighted by
overlap, so a burst at a window boundary does not double the rate), kept in process memory by
default and in Redis when ``PATIENTOVERBLIK_REDIS_URL`` is set; there ``limits`` updates a window in
one Lua script, so every gateway process sharing the Redis enforces one limit (ADR 0018).

Over a budget is :class:`RateLimited` with the seconds until the window has room again: code
``RATE_LIMITED``, HTTP 429 and ``Retry-After``. If Redis cannot be reached within its socket timeout
the request is let through and a warning is logged (no personal data): the limiter protects capacity
and must not become the outage itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import redis.asyncio as aioredis
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from gateway.metrics import RATE_LIMITED

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


class RateLimited(Exception):
    """Over a budget; ``retry_after`` is whole seconds until the window has room again (at least 1)."""

    def __init__(self, window: Window, retry_after: int) -> None:
        what = "requests" if window is Window.REQUESTS else "query cost"
        super().__init__(f"Too many {what} from your client in this window; retry after {retry_after} s.")
        self.window = window
        self.retry_after = retry_after


def caller_key(label: str) -> str:
    """The key a caller is counted under: a digest of its label, so Redis holds no identities."""
    return hashlib.sha256(label.encode()).hexdigest()[:32]


class RateLimiter:
    """Sliding-window counters per caller and window, in one storage (memory or Redis)."""

    def __init__(self, storage: Storage, pool: aioredis.ConnectionPool | None = None) -> None:
        self._storage = storage
        self._pool = pool
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    @classmethod
    def open(cls, redis_url: str | None) -> RateLimiter:
        """In process memory, or shared in the Redis at ``redis_url`` (``redis://host:port/db``)."""
        if redis_url is None:
            return cls(MemoryStorage())
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
            if await self._limiter.hit(item, window.value, key, cost=amount):
                return
            stats = await self._limiter.get_window_stats(item, window.value, key)
        except StorageError as exc:
            logger.warning(
                "rate limit store unavailable; request let through", extra={"error_class": type(exc).__name__}
            )
            return
        RATE_LIMITED.labels(window.value).inc()
        raise RateLimited(window, max(1, math.ceil(stats.reset_time - time.time())))

    async def aclose(self) -> None:
        """Close the Redis connections, or stop the in-memory store's expiry task."""
        if self._pool is not None:
            await self._pool.aclose()
        timer = getattr(self._storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()
