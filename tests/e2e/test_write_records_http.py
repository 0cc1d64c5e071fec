"""No record, no change: the record of a write is on disk before the write goes upstream (ADR 0007).

A request that may change a patient's data opens that patient's access record (outcome
``unconfirmed``) before execution and finalises it afterwards. If the record cannot be opened, nothing
is sent upstream: the sandbox recorders count zero PUT, POST and DELETE. If it cannot be finalised,
the change may have been made, and the record says "change attempted, outcome not confirmed": the
patient's log shows it so, and Min Log gets it as it stands once it has been open for the grace.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auth.access_log import AccessLogPolicy, AccessRecord, SecurityEvent, SqliteAccessLog
from auth.export import OPEN_GRACE_S, export_pending, utc_now
from sandbox.personas import LUNG_CLINIC_SOR
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from sources.audit import AccessOutcome
from sources.minlog import MinLogSink
from tests.e2e.conftest import HANS, Gateway, error_codes, min_log_events, settings_for, start_gateway
from tests.e2e.test_writes_http import CREATE, REVOKE, UPDATE

pytestmark = pytest.mark.usefixtures("restore_hans")

LISE = "1709683160"
"""Lise holds a digital power of attorney from Hans."""
WRITES = ("PUT", "POST", "DELETE")
BLOCK = {"kind": "ORGANISATION", "organisationSorId": LUNG_CLINIC_SOR}
LOG = "query Log($cpr: CPR!) { patient(cpr: $cpr) { accessLog(first: 20) { nodes { outcome summary } } } }"


class FailingStore(SqliteAccessLog):
    """A store whose opening of a write's record, or finalising, fails on demand (a full disk)."""

    fail_open = False
    fail_write = False

    async def open_writes(self, records: Sequence[AccessRecord]) -> None:
        if self.fail_open:
            raise OSError("disk full")
        await super().open_writes(records)

    async def write(self, records: Sequence[AccessRecord], security_events: Sequence[SecurityEvent] = ()) -> None:
        if self.fail_write:
            raise OSError("disk full")
        await super().write(records, security_events)


@pytest.fixture
async def failing(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[tuple[Gateway, FailingStore]]:
    """The gateway over a :class:`FailingStore`, its background export slowed down so tests export by hand."""
    store = FailingStore(tmp_path / "access.db")
    settings = settings_for(sandbox, tmp_path, minlog_export_interval_s=3600)
    async for gateway in start_gateway(sandbox, settings, store):
        yield gateway, store
    await store.aclose()


def upstream_writes(sandbox: ThreadedSandbox) -> int:
    """PUT, POST and DELETE requests every source received."""
    names = ("stamkort", "consent", "cpr", "registers", "fuldmagt", "treatment_relation")
    return sum(1 for name in names for r in sandbox.control(name).recorder.requests if r.method in WRITES)


async def mutate(gateway: Gateway, kind: str, token: str, block_id: str = "") -> dict[str, Any]:
    if kind == "updateMasterCard":
        return await gateway.graphql(UPDATE, token, cpr=HANS, version="1", changes={"phone": "99887766"})
    if kind == "createBlock":
        return await gateway.graphql(CREATE, token, cpr=HANS, block=BLOCK)
    return await gateway.graphql(REVOKE, token, cpr=HANS, id=block_id)


MUTATIONS = ("updateMasterCard", "createBlock", "revokeBlock")


async def prepare(gateway: Gateway, kind: str, token: str) -> str:
    """The block a ``revokeBlock`` will revoke (made now; ``""`` for the other kinds); recorders cleared."""
    block_id = ""
    if kind == "revokeBlock":
        block_id = (await mutate(gateway, "createBlock", token))["data"]["createBlock"]["id"]
    for name in ("stamkort", "consent"):
        gateway.sandbox.control(name).recorder.clear()
    return str(block_id)


@pytest.mark.parametrize("kind", MUTATIONS)
async def test_when_the_record_of_a_change_cannot_be_written_nothing_is_changed(
    failing: tuple[Gateway, FailingStore], population: Population, kind: str
) -> None:
    gateway, store = failing
    token = gateway.citizen(LISE)
    block_id = await prepare(gateway, kind, token)
    blocks_before = len(population.blocks)
    records_before = len(await store.for_patient(HANS, limit=100))
    store.fail_open = True

    body = await mutate(gateway, kind, token, block_id)

    assert body["data"] is None
    assert error_codes(body) == [("ACCESS_LOG_UNAVAILABLE", None)]
    assert upstream_writes(gateway.sandbox) == 0, "no PUT, POST or DELETE went upstream"
    assert population.master_cards[HANS].version == 1 and len(population.blocks) == blocks_before
    assert len(await store.for_patient(HANS, limit=100)) == records_before


@pytest.mark.parametrize("kind", MUTATIONS)
async def test_a_change_whose_record_cannot_be_finalised_reads_as_unconfirmed_and_is_exported_late(
    failing: tuple[Gateway, FailingStore], minlog_sink: MinLogSink, kind: str
) -> None:
    gateway, store = failing
    token = gateway.citizen(LISE)
    block_id = await prepare(gateway, kind, token)
    store.fail_write = True

    body = await mutate(gateway, kind, token, block_id)

    assert body["data"] is None and error_codes(body) == [("ACCESS_LOG_UNAVAILABLE", None)]
    assert upstream_writes(gateway.sandbox) == 1, "the change went upstream after its record was written"
    store.fail_write = False
    (record, *_) = await store.for_patient(HANS)
    assert record.outcome is AccessOutcome.UNCONFIRMED and record.returned == ()
    assert record.activity == "write" and record.actor_id == LISE
    entries = (await gateway.graphql(LOG, gateway.citizen(HANS), cpr=HANS))["data"]["patient"]["accessLog"]["nodes"]
    unconfirmed = [e for e in entries if e["outcome"] == "UNCONFIRMED"]
    assert len(unconfirmed) == 1 and "ikke bekræftet" in unconfirmed[0]["summary"]

    early = await export_pending(store, minlog_sink)
    assert early.set_aside == 0, "an open record is held back, not set aside"
    assert record.id not in {e["meta"]["tag"][0]["code"] for e in await min_log_events(gateway.sandbox, HANS)}
    late = await export_pending(store, minlog_sink, now=lambda: utc_now() + timedelta(seconds=OPEN_GRACE_S + 60))
    assert late.set_aside == 0
    events = await min_log_events(gateway.sandbox, HANS)
    (event,) = [e for e in events if e["meta"]["tag"][0]["code"] == record.id]
    assert event["outcome"] == "8" and "ikke bekræftet" in event["outcomeDesc"]


async def test_a_change_the_source_did_not_answer_is_recorded_as_unconfirmed(gateway: Gateway) -> None:
    gateway.sandbox.control("consent").faults.update({"mode": "down"})

    body = await mutate(gateway, "createBlock", gateway.citizen(HANS))

    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "consent")]
    (record,) = [r for r in await gateway.access_log.for_patient(HANS) if "blocks_edit" in r.requested]
    assert record.outcome is AccessOutcome.UNCONFIRMED, "a 503 does not tell that nothing was changed"


async def test_a_change_the_source_refused_is_not_unconfirmed(gateway: Gateway) -> None:
    body = await mutate(gateway, "revokeBlock", gateway.citizen(HANS), "blk-000000")

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    (record,) = [r for r in await gateway.access_log.for_patient(HANS) if "blocks_edit" in r.requested]
    assert record.outcome is AccessOutcome.NOTHING


async def test_a_locked_access_log_refuses_the_change_before_the_stamkort_is_asked(
    sandbox: ThreadedSandbox, tmp_path: Path, population: Population
) -> None:
    store = SqliteAccessLog(tmp_path / "access.db", policy=AccessLogPolicy(acquire_timeout_s=0.05))
    locker = sqlite3.connect(tmp_path / "access.db", isolation_level=None)
    try:
        async for gateway in start_gateway(sandbox, settings_for(sandbox, tmp_path), store):
            sandbox.control("stamkort").recorder.clear()
            locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock

            body = await mutate(gateway, "updateMasterCard", gateway.citizen(LISE))

            locker.execute("ROLLBACK")
            assert error_codes(body) == [("ACCESS_LOG_UNAVAILABLE", None)]
            assert upstream_writes(sandbox) == 0
            assert population.master_cards[HANS].version == 1, "the card is unchanged"
    finally:
        locker.close()
        await store.aclose()
