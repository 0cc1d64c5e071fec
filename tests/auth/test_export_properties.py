"""The export never stalls and never loses a record: a property over generated queues, on both stores.

Each example writes a queue of records for three patients, at times that often tie: ordinary ones,
ones the Min Log mapping cannot express, ones Min Log refuses entry by entry, and rows an older
version left outside the vocabulary. The real :class:`~sources.minlog.MinLogSink` sends them to a
scripted Min Log that also fails a few requests as a whole (503). Export runs until a run succeeds.
Then:

1. every record is exported or set aside with a reason, and nothing is pending (none stuck);
2. exactly the records that can go went (and each reached the log), the others are dead letters;
3. per patient, Min Log first stored the records in the order they were made (``at``, then ``id``);
4. no reason holds a CPR number, and a further run has nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from auth.access_log import AccessLog, ExportStatus, open_access_log
from auth.export import ExportFailed, export_pending
from sources.base import SourceClient, SourceConfig
from sources.minlog import MinLogSink
from tests.auth.stored_rows import insert_raw
from tests.records import access_record

PATIENTS = ("1403723705", "2309510372", "0907644021")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
KINDS = ("ok", "ok", "ok", "refused", "unmappable", "unreadable")


@dataclass(frozen=True)
class Queued:
    id: str
    patient: str
    second: int
    kind: str


@st.composite
def queues(draw: st.DrawFn) -> tuple[list[Queued], frozenset[int], int]:
    n = draw(st.integers(1, 24))
    queue = [
        Queued(
            f"rec-{i:03d}" if kind != "unmappable" else f"rec {i:03d}|x",
            draw(st.sampled_from(PATIENTS)),
            draw(st.integers(0, 12)),
            kind,
        )
        for i, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n)))
    ]
    failing = frozenset(draw(st.lists(st.integers(0, 8), max_size=3)))
    return queue, failing, draw(st.integers(1, 6))


class ScriptedMinLog:
    """Answers batches: 503 for the requests numbered in ``failing``, 400 per refused entry, else 201/200."""

    def __init__(self, refused: set[str], failing: frozenset[int]) -> None:
        self.refused = refused
        self.failing = failing
        self.requests = 0
        self.stored: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        number, self.requests = self.requests, self.requests + 1
        if number in self.failing:
            return httpx.Response(503)
        answers = []
        for entry in json.loads(request.content)["entry"]:
            tag = entry["resource"]["meta"]["tag"][0]["code"]
            if tag in self.refused:
                answers.append({"response": {"status": "400 Bad Request"}})
            elif tag in self.stored:
                answers.append({"response": {"status": "200 OK"}})
            else:
                self.stored.append(tag)
                answers.append({"response": {"status": "201 Created"}})
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "batch-response", "entry": answers})


@pytest.fixture
async def store(access_log_url: str) -> AsyncIterator[tuple[AccessLog, str]]:
    log = open_access_log(access_log_url)
    yield log, access_log_url
    await log.aclose()


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=queues())
async def test_every_record_ends_exported_or_set_aside_in_order_and_none_is_stuck(
    store: tuple[AccessLog, str], case: tuple[list[Queued], frozenset[int], int]
) -> None:
    log, url = store
    queue, failing, batch_size = case
    await log.purge(FAR_FUTURE)  # each example starts from an empty store
    for item in queue:
        record = access_record(id=item.id, at=T0 + timedelta(seconds=item.second), patient_cpr=item.patient)
        if item.kind == "unreadable":
            insert_raw(url, record, actor_kind="anonymous")
        else:
            await log.write([record])
    minlog = ScriptedMinLog({q.id for q in queue if q.kind == "refused"}, failing)
    client = httpx.AsyncClient(transport=httpx.MockTransport(minlog), base_url="http://minlog.mock")
    sink = MinLogSink(SourceClient(SourceConfig("minlog", "http://minlog.mock", retries=0), client))

    runs = 0
    try:
        while True:
            runs += 1
            assert runs <= len(failing) + 1, "every run but the failed ones finishes the queue"
            try:
                await export_pending(log, sink, batch_size=batch_size)
                break
            except ExportFailed:
                continue
        again = await export_pending(log, sink, batch_size=batch_size)
    finally:
        await client.aclose()
    note(f"stored {minlog.stored}")

    going = [q for q in queue if q.kind == "ok"]
    letters = await log.dead_letters(limit=100)
    assert await log.export_status() == ExportStatus(pending=0, exported=len(going), set_aside=len(queue) - len(going))
    assert sorted(minlog.stored) == sorted(q.id for q in going)
    assert sorted(d.id for d in letters) == sorted(q.id for q in queue if q.kind != "ok")
    assert all(d.reason and not any(p in d.reason for p in PATIENTS) for d in letters)
    for patient in PATIENTS:
        made = [q.id for q in sorted(going, key=lambda q: (q.second, q.id)) if q.patient == patient]
        assert [i for i in minlog.stored if i in made] == made, f"order kept for {patient}"
    assert (again.sent, again.set_aside) == (0, 0)
