"""The collector's work per request (ADR 0027): counted in objects, never timed.

A served request's execution state is freed by reference counting when its answer is built, so it
never waits for the cyclic garbage collector; what start-up built is left out of the collector's
scans while the gateway serves, and given back when it stops.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.collector import YOUNG_THRESHOLD
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, error_codes, settings_for
from tests.e2e.test_appointments_http import APPOINTMENTS

REQUEST_STATE = (
    "RequestContext",
    "DecidedExecutor",
    "AcyclicExecutor",
    "Loaders",
    "AccessPlan",
    "PersonRecord",
    "MasterCardRecord",
    "AppointmentRecord",
    "Response",
    "Request",
    "AsyncRetrying",
)
"""What one request builds and no other request shares: its context, executors, loaders, plan and records,
and each upstream call's request, answer and retry schedule."""
GATEWAY_HOST = "gateway.test"
"""Where the tests' client sends its requests (:func:`tests.e2e.conftest.start_gateway`)."""


@contextmanager
def cyclic_garbage() -> Iterator[Counter[str]]:
    """The kinds of objects that became cyclic garbage while the block ran (only the collector frees them)."""
    found: Counter[str] = Counter()
    gc.collect()
    gc.disable()
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found.update(type(o).__name__ for o in gc.garbage if not _the_tests_own(o))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def _the_tests_own(thing: object) -> bool:
    """An answer of the test's client to the gateway, or its request (the client is not under test)."""
    request = thing.request if isinstance(thing, httpx.Response) else thing
    return isinstance(request, httpx.Request) and request.url.host == GATEWAY_HOST


async def test_an_overview_leaves_nothing_of_its_request_to_the_collector(gateway: Gateway) -> None:
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)  # warm: key set, practice, validation
    with cyclic_garbage() as garbage:
        for _ in range(3):
            body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
            assert error_codes(body) == [] and body["data"]["patient"]["person"]

    assert {kind: garbage[kind] for kind in REQUEST_STATE if garbage[kind]} == {}


async def test_appointments_leave_nothing_of_their_request_to_the_collector(gateway: Gateway) -> None:
    window = {"from": "2020-01-01", "to": "2029-12-31"}
    await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **window)
    with cyclic_garbage() as garbage:
        body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **window)
        assert error_codes(body) == []

    assert {kind: garbage[kind] for kind in REQUEST_STATE if garbage[kind]} == {}


async def test_start_up_is_left_out_of_the_collectors_scans_while_serving(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    thresholds = gc.get_threshold()
    first, second = (create_app(settings_for(sandbox, tmp_path / name)) for name in ("first", "second"))
    async with first.router.lifespan_context(first):
        frozen = gc.get_freeze_count()
        assert frozen > 0 and gc.get_threshold()[0] == YOUNG_THRESHOLD
        async with second.router.lifespan_context(second):
            assert gc.get_freeze_count() >= frozen
        assert gc.get_freeze_count() >= frozen and gc.get_threshold()[0] == YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
