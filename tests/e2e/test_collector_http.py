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

from gateway.app import create_app
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, error_codes, settings_for
from tests.e2e.test_appointments_http import APPOINTMENTS

REQUEST_STATE = (
    "RequestContext",
    "DecidedExecutor",
    "Loaders",
    "AccessPlan",
    "PersonRecord",
    "MasterCardRecord",
    "AppointmentRecord",
)
"""What one request builds and no other request shares: its context, executor, loaders, plan and records."""


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
        found.update(type(o).__name__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


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
    before = gc.get_freeze_count()
    app = create_app(settings_for(sandbox, tmp_path))
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
        assert gc.is_tracked(app) and frozen > before
    assert gc.get_freeze_count() == 0
