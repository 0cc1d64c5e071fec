"""One deadline per request (ADR 0024): each call gets the shorter of its source's timeout and its wave's
time left, a call whose wave has less than the least time of a call never starts, and a call cut short
by the request's deadline tells the source's breaker nothing. The request's time is a test clock
(``sources.clock.monotonic``); calls are counted at a mock upstream."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources import deadline
from sources.base import SourceClient, SourceConfig
from sources.breaker import BreakerPolicy, BreakerState
from sources.deadline import LAST_WAVE, Wave, call_budget, in_wave, outside_request
from sources.errors import FailureKind, SourceSkipped, SourceTimeout, SourceUnavailable
from tests.clock import Clock

MIN_CALL_S = 0.2


@pytest.fixture
def request_deadline(clock: Clock) -> Iterator[Clock]:
    """A request deadline of 3 s started now on the test clock, ended after the test."""
    token = deadline.start(3.0, MIN_CALL_S)
    yield clock
    deadline.reset(token)


class Upstream:
    def __init__(self, *, hang: bool = False, status: int = 200, delay_s: float = 0.0) -> None:
        self.hang = hang
        self.status = status
        self.delay_s = delay_s
        self.requests = 0

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.hang:
            await asyncio.Event().wait()
        await asyncio.sleep(self.delay_s)
        return httpx.Response(self.status, json={"ok": True})

    def client(self, *, timeout_s: float = 2.0, retries: int = 0, failures: int = 1) -> SourceClient:
        """A client whose breaker opens after ``failures`` failed requests (one, unless said otherwise)."""
        policy = BreakerPolicy(failures=failures)
        config = SourceConfig("consent", "http://consent.mock", timeout_s, retries, backoff_s=0.0, breaker=policy)
        transport = httpx.MockTransport(self.handler)
        return SourceClient(config, httpx.AsyncClient(transport=transport, base_url=config.base_url))


def test_outside_a_request_a_call_gets_its_sources_own_timeout() -> None:
    budget = call_budget("consent", 2.0)

    assert (budget.seconds, budget.capped) == (2.0, False)


@pytest.mark.parametrize(("wave", "reserve"), [(Wave.DECISION, 2), (Wave.FIRST, 1), (Wave.SECOND, 0)])
def test_a_wave_keeps_the_least_time_of_a_call_for_each_wave_after_it(
    request_deadline: Clock, wave: Wave, reserve: int
) -> None:
    request_deadline.now += 1.5  # 1.5 s of the 3 s are left

    with in_wave(wave):
        budget = call_budget("consent", 10.0)

    assert budget.seconds == pytest.approx(1.5 - reserve * MIN_CALL_S)
    assert budget.capped
    assert LAST_WAVE - wave == reserve


def test_a_source_whose_timeout_is_shorter_than_the_time_left_keeps_its_own(request_deadline: Clock) -> None:
    budget = call_budget("consent", 0.5)

    assert (budget.seconds, budget.capped) == (0.5, False)


@given(spent=st.floats(min_value=0.0, max_value=5.0), timeout_s=st.floats(min_value=0.01, max_value=5.0))
def test_a_call_never_gets_more_than_the_request_has_left(spent: float, timeout_s: float) -> None:
    clock = Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sources.clock.monotonic", clock)
        token = deadline.start(3.0, MIN_CALL_S)
        clock.now += spent
        try:
            for wave in Wave:
                with in_wave(wave):
                    try:
                        budget = call_budget("consent", timeout_s)
                    except SourceSkipped:
                        assert 3.0 - spent - (LAST_WAVE - wave) * MIN_CALL_S < MIN_CALL_S
                    else:
                        left = 3.0 - spent
                        assert min(MIN_CALL_S, timeout_s) <= budget.seconds <= min(timeout_s, left) + 1e-9
        finally:
            deadline.reset(token)


async def test_a_call_the_time_left_cannot_cover_never_starts_and_names_its_source(request_deadline: Clock) -> None:
    upstream = Upstream()
    client = upstream.client()
    request_deadline.now += 3.0 - 0.5 * MIN_CALL_S  # the last wave has less than a call's least time

    with in_wave(Wave.SECOND), pytest.raises(SourceSkipped) as caught:
        await client.get_json("/Consent")

    assert upstream.requests == 0
    assert caught.value.source == "consent" and caught.value.kind is FailureKind.TIMEOUT
    assert client.breaker.state is BreakerState.CLOSED  # nothing was asked, nothing learnt


async def test_a_call_cut_short_by_the_request_tells_the_breaker_nothing(request_deadline: Clock) -> None:
    upstream = Upstream(hang=True)
    client = upstream.client(timeout_s=10.0)  # the request's deadline is far shorter than the source's own
    request_deadline.now += 3.0 - 0.25  # the last wave has 0.25 s: the call gets that, not 10 s

    with in_wave(Wave.SECOND), pytest.raises(SourceTimeout):
        await client.get_json("/Consent")

    assert upstream.requests == 1
    assert client.breaker.state is BreakerState.CLOSED  # one failure would have opened it (failures=1)


async def test_a_source_that_runs_out_its_own_timeout_counts_against_its_breaker(request_deadline: Clock) -> None:
    upstream = Upstream(hang=True)
    client = upstream.client(timeout_s=0.05)

    with pytest.raises(SourceTimeout):
        await client.get_json("/Consent")

    assert client.breaker.state is BreakerState.OPEN


@pytest.mark.parametrize(("in_request", "requests"), [(True, 1), (False, 4)], ids=["in-a-request", "outside"])
async def test_a_retry_is_made_only_when_the_least_time_of_a_call_is_left_after_it(
    clock: Clock, in_request: bool, requests: int
) -> None:
    upstream = Upstream(status=503, delay_s=0.15)  # each attempt takes 0.15 s of real time
    client = upstream.client(retries=3, failures=10)
    token = deadline.start(3.0, MIN_CALL_S) if in_request else deadline.none()
    clock.now += 3.0 - 1.5 * MIN_CALL_S  # in a request, 0.3 s are left: after one attempt, less than 0.2 s

    try:
        with in_wave(Wave.SECOND), pytest.raises(SourceUnavailable):
            await client.get_json("/Consent")
    finally:
        deadline.reset(token)

    assert upstream.requests == requests


async def test_work_shared_across_requests_runs_without_the_deadline_of_the_request_that_started_it(
    request_deadline: Clock,
) -> None:
    assert deadline.current() is not None

    shared = outside_request().run(deadline.current)
    inner = contextvars.copy_context().run(deadline.current)

    assert shared is None and inner is not None
