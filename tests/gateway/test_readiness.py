"""``/readyz`` tells the truth (ADR 0024): not ready while the access log cannot be written or a required
source's breaker is open, with the reason and no personal data; a storm of checks costs one probe; each
change of state is logged once and counted. The store and the breakers are fakes; time is a test clock."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from gateway.readiness import ACCESS_LOG, Readiness
from gateway.settings_resilience import DECISION_SOURCES
from sources.breaker import BreakerState
from tests.clock import Clock


class Store:
    """An access log whose probe counts itself and fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.probes = 0

    async def probe(self) -> None:
        self.probes += 1
        await asyncio.sleep(0)
        if self.down:
            raise TimeoutError("no connection")


class Breakers:
    def __init__(self) -> None:
        self.states = dict.fromkeys([*DECISION_SOURCES, "stamkort", "dds", "consent.token"], BreakerState.CLOSED)

    def __call__(self) -> dict[str, BreakerState]:
        return dict(self.states)


Parts = tuple[Store, Breakers, Clock, Readiness]


@pytest.fixture
def parts() -> Parts:
    store, breakers, clock = Store(), Breakers(), Clock()
    readiness = Readiness(store, breakers, DECISION_SOURCES, cache_s=1.0, timer=clock)  # type: ignore[arg-type]
    return store, breakers, clock, readiness


def changes(check: str, state: str) -> float:
    value = REGISTRY.get_sample_value("patientoverblik_readiness_changes_total", {"check": check, "state": state})
    return value or 0.0


async def test_ready_when_the_access_log_takes_writes_and_no_required_breaker_is_open(parts: Parts) -> None:
    _, _, _, readiness = parts

    report = await readiness.report()

    assert report.ready
    assert report.as_json()["status"] == "ready"
    assert set(report.checks) == {ACCESS_LOG, *(f"source:{name}" for name in DECISION_SOURCES), "source:consent.token"}


async def test_not_ready_with_the_reason_while_the_access_log_cannot_be_written(parts: Parts) -> None:
    store, _, clock, readiness = parts
    store.down = True

    body = (await readiness.report()).as_json()

    assert body["status"] == "not_ready"
    assert body["checks"][ACCESS_LOG] == {
        "state": "failing",
        "reason": "the access log cannot be written (TimeoutError)",
    }
    store.down = False
    clock.now += 1.0
    assert (await readiness.report()).ready


@pytest.mark.parametrize(
    ("source", "state", "ready"),
    [
        ("consent", BreakerState.OPEN, False),
        ("consent.token", BreakerState.OPEN, False),
        ("consent", BreakerState.HALF_OPEN, True),  # its one probe needs a request
        ("stamkort", BreakerState.OPEN, True),  # a section, not a decision input
    ],
)
async def test_an_open_breaker_of_a_required_source_makes_the_gateway_not_ready(
    parts: Parts, source: str, state: BreakerState, ready: bool
) -> None:
    _, breakers, _, readiness = parts
    breakers.states[source] = state

    report = await readiness.report()

    assert report.ready is ready
    if not ready:
        assert report.as_json()["checks"][f"source:{source}"] == {
            "state": "failing",
            "reason": "circuit breaker open",
        }


async def test_a_storm_of_checks_probes_the_access_log_once(parts: Parts) -> None:
    store, _, clock, readiness = parts

    await asyncio.gather(*(readiness.report() for _ in range(50)))
    await readiness.report()
    clock.now += 1.0
    await readiness.report()

    assert store.probes == 2


async def test_each_change_is_logged_once_and_counted(parts: Parts, caplog: pytest.LogCaptureFixture) -> None:
    store, _, clock, readiness = parts
    failing_before, ok_before = changes(ACCESS_LOG, "failing"), changes(ACCESS_LOG, "ok")
    caplog.set_level(logging.INFO, "patientoverblik.readiness")

    await readiness.report()
    store.down = True
    for _ in range(5):
        clock.now += 1.0
        await readiness.report()
    store.down = False
    for _ in range(3):
        clock.now += 1.0
        await readiness.report()

    lines = [r.getMessage() for r in caplog.records if r.name == "patientoverblik.readiness"]
    assert lines == [
        "readiness check access_log is failing",
        "the gateway is not ready",
        "readiness check access_log is ok",
        "the gateway is ready",
    ]
    assert changes(ACCESS_LOG, "failing") - failing_before == 1
    assert changes(ACCESS_LOG, "ok") - ok_before == 1
    assert REGISTRY.get_sample_value("patientoverblik_ready") == 1.0
