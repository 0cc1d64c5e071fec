"""The key set cache: stale-while-revalidate, one fetch at a time, bounded waits.

The clock is a number the test moves; a fetch is a coroutine the test holds open (``Gate``) until it
says so, so "nobody waited for the slow fetch" is shown by requests finishing while it is still
held, and "one fetch" by counting fetches, never by timing.
"""

from __future__ import annotations

import asyncio

import pytest
from joserfc.jwk import ECKey

from auth.errors import AuthenticationFailed
from auth.key_cache import KeyCache, KeyCachePolicy, Refresh
from auth.keys import UsableKeys

FIRST = UsableKeys((ECKey.generate_key("P-256"),))
SECOND = UsableKeys((ECKey.generate_key("P-256"),))
POLICY = KeyCachePolicy(refresh_s=300, max_age_s=3600, retry_s=5, wait_s=0.05)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Gate:
    """A fetch that answers ``answers`` in turn, each only once the test opens the gate (or at once)."""

    def __init__(self, *answers: UsableKeys | Exception, held: bool = False) -> None:
        self.answers = list(answers)
        self.opened = asyncio.Event()
        if not held:
            self.opened.set()
        self.started = 0
        self.finished = 0

    async def __call__(self) -> UsableKeys:
        self.started += 1
        await self.opened.wait()
        self.finished += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def warm(gate: Gate, clock: Clock, policy: KeyCachePolicy = POLICY) -> KeyCache:
    cache = KeyCache(gate, policy, clock=clock)
    assert await cache.current() is FIRST
    return cache


async def test_a_fresh_set_is_served_without_fetching_again() -> None:
    gate, clock = Gate(FIRST), Clock()
    cache = await warm(gate, clock)

    for _ in range(10):
        clock.now += 29
        assert await cache.current() is FIRST
    assert cache.fetches == 1


async def test_a_stale_set_keeps_serving_while_one_background_fetch_runs() -> None:
    gate, clock = Gate(FIRST, SECOND), Clock()
    cache = await warm(gate, clock)
    gate.opened.clear()  # the next fetch hangs until the test opens it
    clock.now += 301

    answers = await asyncio.gather(*(cache.current() for _ in range(3)))

    assert answers == [FIRST, FIRST, FIRST]
    assert gate.started == 2 and gate.finished == 1  # one refresh started; nobody waited for it
    gate.opened.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await cache.current() is SECOND
    assert cache.fetches == 2


async def test_without_a_set_concurrent_requests_share_one_fetch_and_wait_at_most_the_bound() -> None:
    gate, clock = Gate(FIRST, held=True), Clock()
    cache = KeyCache(gate, POLICY, clock=clock)

    results = await asyncio.gather(*(cache.current() for _ in range(3)), return_exceptions=True)

    assert all(isinstance(r, AuthenticationFailed) for r in results)
    assert gate.started == 1
    await cache.aclose()


async def test_a_set_past_its_maximum_age_is_not_used_when_the_issuer_fails() -> None:
    gate, clock = Gate(FIRST, RuntimeError("issuer down")), Clock()
    cache = await warm(gate, clock)
    clock.now += 3601

    with pytest.raises(AuthenticationFailed, match="unavailable"):
        await cache.current()


async def test_a_failed_refresh_keeps_the_last_good_set_and_is_retried_only_after_the_retry_time() -> None:
    gate, clock = Gate(FIRST, RuntimeError("issuer down")), Clock()
    cache = await warm(gate, clock)
    clock.now += 301
    assert await cache.current() is FIRST
    await asyncio.sleep(0)  # the background refresh fails

    for _ in range(10):
        assert await cache.current() is FIRST
    assert cache.fetches == 2
    clock.now += 5
    assert await cache.current() is FIRST
    assert cache.fetches == 3


async def test_a_set_with_no_usable_key_does_not_replace_the_good_one() -> None:
    gate, clock = Gate(FIRST, UsableKeys()), Clock()
    cache = await warm(gate, clock)
    clock.now += 301

    assert (await cache.after_unknown_key()).keys is FIRST
    assert cache.fetches == 2


async def test_unknown_key_ids_refresh_at_once_then_at_most_once_per_retry_time() -> None:
    gate, clock = Gate(FIRST), Clock()
    cache = await warm(gate, clock)

    await asyncio.gather(*(cache.after_unknown_key() for _ in range(20)))  # right after the first fetch
    for _ in range(20):
        clock.now += 0.2
        await cache.after_unknown_key()
    assert cache.fetches == 2
    clock.now += 1
    await cache.after_unknown_key()
    assert cache.fetches == 3


async def test_an_unknown_key_id_waits_a_bounded_time_for_a_slow_fetch_then_gets_the_cached_set() -> None:
    gate, clock = Gate(FIRST), Clock()
    cache = await warm(gate, clock)
    gate.opened.clear()

    lookup = await cache.after_unknown_key()  # the fetch is still held: bounded by wait_s
    assert (lookup.keys, lookup.refresh) == (FIRST, Refresh.FAILED)
    assert gate.started == 2 and gate.finished == 1
    await cache.aclose()


async def test_an_unknown_key_tells_a_fresh_set_from_a_failed_fetch_and_from_no_fetch() -> None:
    gate, clock = Gate(FIRST, SECOND, RuntimeError("issuer down")), Clock()
    cache = await warm(gate, clock)

    fetched = await cache.after_unknown_key()
    not_tried = await cache.after_unknown_key()  # within retry_s of the last one: the issuer is not asked
    clock.now += 6
    failed = await cache.after_unknown_key()

    assert (fetched.keys, fetched.refresh) == (SECOND, Refresh.FETCHED)
    assert (not_tried.keys, not_tried.refresh) == (SECOND, Refresh.NOT_TRIED)
    assert (failed.keys, failed.refresh) == (SECOND, Refresh.FAILED), "the last good set keeps serving"
    assert cache.fetches == 3
