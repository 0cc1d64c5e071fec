"""A source that is down is asked at most until its breaker opens, then fails fast with its own code and
name, and is asked again once it may have come back (ADR 0013). Requests are counted at the sandbox;
the breakers' clock is moved by the test, never waited for."""

from __future__ import annotations

from sandbox.population import Population
from sources.breaker import BreakerPolicy
from tests.clock import Clock
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, error_codes, recorded
from tests.e2e.test_appointments_http import APPOINTMENTS, hans_range, nodes

THRESHOLD = BreakerPolicy().failures


async def test_six_requests_to_a_source_that_is_down_ask_it_only_until_the_breaker_opens(
    gateway: Gateway, clock: Clock
) -> None:
    gateway.sandbox.control("stamkort").faults.update({"mode": "down"})

    bodies = [await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS) for _ in range(THRESHOLD + 3)]

    assert recorded(gateway.sandbox, "stamkort") == THRESHOLD
    for body in bodies:
        assert error_codes(body) == [("SOURCE_UNAVAILABLE", "stamkort")]
        assert body["data"]["patient"]["person"]["name"] == "Hans Test Jensen"

    gateway.sandbox.control("stamkort").faults.update({"mode": "ok"})
    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "stamkort")]  # still cooling down: not asked
    assert recorded(gateway.sandbox, "stamkort") == THRESHOLD

    clock.now += BreakerPolicy().cool_down_s
    for _ in range(3):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
        assert error_codes(body) == []
        assert body["data"]["patient"]["masterCard"]["phone"] == "61234567"
    assert recorded(gateway.sandbox, "stamkort") == THRESHOLD + 3  # the probe closed it


async def test_each_appointment_endpoint_has_its_own_breaker(
    gateway: Gateway, population: Population, clock: Clock
) -> None:
    gateway.sandbox.control("region-syddanmark").faults.update({"mode": "down"})
    requests = THRESHOLD + 3

    for _ in range(requests):
        body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))
        assert ("SOURCE_UNAVAILABLE", "region-syddanmark") in error_codes(body)
        assert {"municipality-odense", "gp"} <= {n["source"] for n in nodes(body)}

    assert recorded(gateway.sandbox, "region-syddanmark") == THRESHOLD
    assert recorded(gateway.sandbox, "municipality-odense") == requests
    assert recorded(gateway.sandbox, "gp") == requests
