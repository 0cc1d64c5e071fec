"""The circuit breaker per source: it opens after repeated failures, fails fast, probes one request at a
time after its cool-down and closes when the source answers. Calls are counted at the upstream (a mock
transport) and the clock is a test clock, never a timer."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.base import SourceClient, SourceConfig
from sources.breaker import Breaker, BreakerPolicy, BreakerState
from sources.errors import SourceCircuitOpen, SourceRejected, SourceTimeout, SourceUnavailable
from tests.clock import Clock

THRESHOLD = 3
COOL_DOWN = 10.0


class Upstream:
    """A mock upstream answering ``status`` (or hanging) and counting the requests it received."""

    def __init__(self, status: int = 503) -> None:
        self.status = status
        self.hang = False
        self.requests = 0
        self.methods: list[str] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.methods.append(request.method)
        if self.hang:
            await asyncio.Event().wait()
        return httpx.Response(self.status, json={"ok": True})

    def client(self, clock: Clock, *, retries: int = 0, timeout_s: float = 2.0) -> SourceClient:
        policy = BreakerPolicy(failures=THRESHOLD, cool_down_s=COOL_DOWN)
        config = SourceConfig("stamkort", "http://stamkort.mock", timeout_s, retries, backoff_s=0.0, breaker=policy)
        client = SourceClient(config, httpx.AsyncClient(transport=httpx.MockTransport(self.handler)))
        client.breaker = Breaker("stamkort", policy, clock)
        return client


def state(client: SourceClient) -> BreakerState:
    return client.breaker.state


async def failures(client: SourceClient, calls: int) -> list[type[Exception]]:
    seen: list[type[Exception]] = []
    for _ in range(calls):
        with pytest.raises(SourceUnavailable) as caught:
            await client.get_json("http://stamkort.mock/Patient")
        seen.append(type(caught.value))
    return seen


async def test_a_source_down_gets_at_most_threshold_requests_then_calls_fail_fast() -> None:
    upstream, clock = Upstream(503), Clock()
    client = upstream.client(clock, retries=1)

    seen = await failures(client, 6)

    assert upstream.requests == THRESHOLD  # not 6 calls x 2 attempts
    assert seen[-1] is SourceCircuitOpen
    assert state(client) is BreakerState.OPEN


async def test_after_the_cool_down_one_probe_goes_out_and_a_success_closes_the_breaker() -> None:
    upstream, clock = Upstream(503), Clock()
    client = upstream.client(clock)
    await failures(client, THRESHOLD + 2)
    assert upstream.requests == THRESHOLD

    clock.now += COOL_DOWN
    assert state(client) is BreakerState.HALF_OPEN
    upstream.status = 200
    assert await client.get_json("http://stamkort.mock/Patient") == {"ok": True}

    assert state(client) is BreakerState.CLOSED
    for _ in range(5):
        await client.get_json("http://stamkort.mock/Patient")
    assert upstream.requests == THRESHOLD + 1 + 5


async def test_a_failed_probe_opens_the_breaker_for_another_cool_down() -> None:
    upstream, clock = Upstream(503), Clock()
    client = upstream.client(clock)
    await failures(client, THRESHOLD)

    clock.now += COOL_DOWN
    assert await failures(client, 3) == [SourceUnavailable, SourceCircuitOpen, SourceCircuitOpen]

    assert upstream.requests == THRESHOLD + 1
    assert state(client) is BreakerState.OPEN


async def test_while_a_probe_is_out_other_calls_fail_fast() -> None:
    upstream, clock = Upstream(503), Clock()
    client = upstream.client(clock)
    await failures(client, THRESHOLD)
    clock.now += COOL_DOWN
    upstream.status, upstream.hang = 200, True

    probe = asyncio.create_task(client.get_json("http://stamkort.mock/Patient"))
    while upstream.requests == THRESHOLD:  # noqa: ASYNC110 - wait until the probe reached the upstream
        await asyncio.sleep(0)
    assert await failures(client, 2) == [SourceCircuitOpen, SourceCircuitOpen]
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe

    assert upstream.requests == THRESHOLD + 1
    assert state(client) is BreakerState.HALF_OPEN  # a cancelled probe tells nothing: probe again


@pytest.mark.parametrize("status", [400, 404, 409, 412, 422, 428])
async def test_answers_with_a_4xx_never_open_the_breaker(status: int) -> None:
    upstream, clock = Upstream(status), Clock()
    client = upstream.client(clock)

    for _ in range(THRESHOLD * 3):
        with pytest.raises((SourceUnavailable, SourceRejected)):
            await client.send_json("PUT", "http://stamkort.mock/Patient/1", {"id": "1"})
        with pytest.raises(SourceUnavailable):
            await client.get_json("http://stamkort.mock/Patient")

    assert upstream.requests == THRESHOLD * 3 * 2
    assert state(client) is BreakerState.CLOSED


async def test_a_write_is_never_retried_and_fails_fast_while_open() -> None:
    upstream, clock = Upstream(503), Clock()
    client = upstream.client(clock, retries=3)

    for _ in range(THRESHOLD + 2):
        with pytest.raises(SourceUnavailable):
            await client.send_json("PUT", "http://stamkort.mock/Patient/1", {"id": "1"})

    assert upstream.methods == ["PUT"] * THRESHOLD


async def test_requests_cut_by_the_deadline_count_as_failures() -> None:
    upstream, clock = Upstream(200), Clock()
    upstream.hang = True
    client = upstream.client(clock, timeout_s=0.05)

    seen = await failures(client, THRESHOLD + 2)

    assert seen == [SourceTimeout] * THRESHOLD + [SourceCircuitOpen] * 2
    assert upstream.requests == THRESHOLD


async def test_a_success_resets_the_count() -> None:
    upstream, clock = Upstream(503), Clock()
    client = upstream.client(clock)

    for _ in range(3):
        await failures(client, THRESHOLD - 1)
        upstream.status = 200
        await client.get_json("http://stamkort.mock/Patient")
        upstream.status = 503

    assert state(client) is BreakerState.CLOSED
    assert upstream.requests == 3 * THRESHOLD


Event = st.one_of(
    st.sampled_from(["ok", "fail", "answered_4xx", "cancelled"]),
    st.floats(min_value=0, max_value=2 * COOL_DOWN),
)


@given(st.lists(Event, max_size=60))
def test_no_more_than_threshold_requests_fail_in_a_row_between_cool_downs(events: list[str | float]) -> None:
    """Whatever happens, requests that go out and fail without a cool-down passing number at most the threshold,
    and after each cool-down at most one probe goes out at a time."""
    clock = Clock()
    breaker = Breaker("source", BreakerPolicy(THRESHOLD, COOL_DOWN), clock)
    failed_since_cool_down = 0
    last_cool_down = clock.now
    for event in events:
        if isinstance(event, float):
            clock.now += event
            if clock.now - last_cool_down >= COOL_DOWN:
                failed_since_cool_down, last_cool_down = 0, clock.now
            continue
        before = breaker.state
        try:
            breaker.admit()
        except SourceCircuitOpen:
            assert before is not BreakerState.CLOSED
            continue
        if before is BreakerState.HALF_OPEN:
            with pytest.raises(SourceCircuitOpen):
                breaker.admit()  # one probe at a time
        if event == "fail":
            breaker.failed()
            failed_since_cool_down += 1
        elif event == "cancelled":
            breaker.released()
        else:
            breaker.succeeded()  # a 2xx or a 4xx: the source answered
            failed_since_cool_down = 0
        assert failed_since_cool_down <= THRESHOLD
