"""Whatever a stored row holds, the patient's log pages exactly and the operator lists and retries it.

Rows an older or newer version (or a hand at the database) left outside the vocabulary are never
shown, but they take their place in the store. Two properties over generated mixes of readable and
unreadable rows, on both stores:

1. Paging the patient's log (the resolver over the real store) with any page size shows every
   readable record exactly once, newest first, and ends; no unreadable row hides the ones behind it.
2. Every dead letter is listed by ``patientoverblik dead-letters`` and put back by
   ``retry-dead-letters`` (by id, or all), and every security event is listed by ``security-events``,
   whatever their rows hold; the commands exit 0 and print no traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from auth.access_log import AccessLog, open_access_log
from auth.export import export_pending
from gateway.cli import app
from resolvers.access_log import log_window, read_access_log
from sources.audit import AccessRecord, SinkRefusal
from tests.auth.stored_rows import execute_raw, insert_raw
from tests.records import access_record

SQLITE_ONLY = [
    ("at", "not a date"),
    ("at", "2026-13-45T25:61:00.000000+00:00"),
    ("at", "2026-03-01T10:00:00+01:00"),
    ("requested", "not json"),
    ("requested", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
    ("returned", '{"person": 1}'),
    ("actor_name", b"\xff\xfe"),
    ("outcome", 7),
]
POSTGRES_ONLY = [("at", "infinity"), ("at", "-infinity"), ("at", "10001-01-01T00:00:00Z")]
BOTH = [
    ("requested", ["telepathy"]),
    ("outcome", "maybe"),
    ("activity", "delete"),
    ("override_ground", "BECAUSE"),
    ("denied", ["person", "x-newer-category"]),
    ("actor_kind", "anonymous"),
]
_patients = itertools.count(1)


def corruptions(backend: str) -> list[tuple[str, Any]]:
    return BOTH + (SQLITE_ONLY if backend == "sqlite" else POSTGRES_ONLY)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes the URL of a new, empty access log (a file, or a PostgreSQL schema of its own) per call."""
    schemas: list[str] = []
    server = request.getfixturevalue("postgres_server_url") if backend == "postgres" else ""

    def make() -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / (uuid.uuid4().hex + '.db')}"
        schema = f"unreadable_rows_{uuid.uuid4().hex}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{schema}"

    yield make
    if schemas:
        with psycopg.connect(server, autocommit=True) as admin:
            for schema in schemas:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


Row = tuple[int, tuple[str, Any] | None]
"""A row: its second (times tie often), and the corruption it carries (``None``: readable)."""


@st.composite
def mixes(draw: st.DrawFn, backend: str) -> tuple[list[Row], int]:
    kinds = st.one_of(st.none(), st.sampled_from(corruptions(backend)))
    rows = draw(st.lists(st.tuples(st.integers(0, 8), kinds), min_size=1, max_size=18))
    return rows, draw(st.integers(1, 6))


def _rows_for(url: str, cpr: str, rows: list[Row], start: datetime) -> list[AccessRecord]:
    """Store ``rows`` for patient ``cpr``; the readable records, newest first."""
    written = []
    for n, (second, corruption) in enumerate(rows):
        record = access_record(id=f"{cpr}-{n:02d}", at=start + timedelta(seconds=second), patient_cpr=cpr)
        if corruption is None:
            insert_raw(url, record)
            written.append(record)
        else:
            insert_raw(url, record, **{corruption[0]: corruption[1]})
    return sorted(written, key=lambda r: (r.at, r.id), reverse=True)


def test_paging_shows_every_readable_record_once_whatever_the_other_rows_hold(
    backend: str, fresh_url: Callable[[], str]
) -> None:
    url = fresh_url()
    asyncio.run(_create(url))
    today = datetime.now(UTC).date()
    start = datetime.now(UTC) - timedelta(days=3)

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=mixes(backend))
    def walk(case: tuple[list[Row], int]) -> None:
        rows, first = case
        cpr = f"{next(_patients):010d}"  # a patient of its own per example: the store is shared
        readable = _rows_for(url, cpr, rows, start)
        seen, pages, total = asyncio.run(_walk(url, cpr, today, first))
        assert seen == [r.id for r in readable], "each readable record once, newest first"
        assert pages <= len(rows) // first + 1, "the walk ends"
        assert len(seen) <= total <= len(rows), "the total counts every entry a page can hold, and no more"

    walk()


async def _create(url: str) -> None:
    """Create the store's tables."""
    log = open_access_log(url)
    try:
        await log.export_status()
    finally:
        await log.aclose()


async def _walk(url: str, cpr: str, today: date, first: int) -> tuple[list[str], int, int]:
    log = open_access_log(url)
    try:
        window = log_window(None, None, today)
        seen: list[str] = []
        after, pages = None, 0
        while True:
            pages += 1
            page = await read_access_log(log, cpr, window, first, after)
            seen += [str(e.id) for e in page.nodes]
            if not page.page_info.has_next_page:
                return seen, pages, await page.total_count()
            after = page.page_info.end_cursor
            assert after is not None
    finally:
        await log.aclose()


class _RefuseAll:
    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        return [SinkRefusal(r.id, "Min Log refused the entry (status 400)") for r in records]


SET_ASIDE_CORRUPTIONS: dict[str, list[tuple[object, object]]] = {
    "sqlite": [(None, "x"), ("not a date", None), ("2026-01-01T00:00:00", 17), ("", "")],
    "postgres": [("infinity", None), ("-infinity", "x")],
}
EVENT_CORRUPTIONS: dict[str, list[tuple[str, object]]] = {
    "sqlite": [("kind", "telepathy"), ("at", "not a date"), ("patients", "many"), ("actor_kind", "robot"), ("at", 5)],
    "postgres": [("kind", "telepathy"), ("at", "infinity"), ("actor_kind", "robot")],
}


@st.composite
def letters(draw: st.DrawFn, backend: str) -> tuple[list[tuple[str, Any] | None], list[Any], list[Any]]:
    records = draw(st.lists(st.one_of(st.none(), st.sampled_from(corruptions(backend))), min_size=1, max_size=6))
    set_aside = draw(st.lists(st.sampled_from(SET_ASIDE_CORRUPTIONS[backend]), max_size=3))
    events = draw(st.lists(st.sampled_from(EVENT_CORRUPTIONS[backend]), max_size=3))
    return records, set_aside, events


def test_the_operator_lists_and_retries_every_dead_letter_and_lists_every_event(
    backend: str, fresh_url: Callable[[], str]
) -> None:
    runner = CliRunner()

    @settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=letters(backend))
    def operate(case: tuple[list[tuple[str, Any] | None], list[Any], list[Any]]) -> None:
        records, set_aside, events = case
        url = fresh_url()
        ids = _dead_letters(url, records, set_aside)
        event_ids = _events(url, events)

        listed = runner.invoke(app, ["dead-letters", "--limit", "100", "--database-url", url])
        assert listed.exit_code == 0, listed.output
        assert all(i in listed.output for i in ids) and "Traceback" not in listed.output
        assert f"{len(ids)} dead letter" in listed.output
        if ids:
            one = runner.invoke(app, ["retry-dead-letters", "--id", ids[0], "--database-url", url])
            assert one.exit_code == 0 and "1 dead letter back in the export queue" in one.output
        rest = runner.invoke(app, ["retry-dead-letters", "--all", "--database-url", url])
        assert rest.exit_code == 0 and f"{max(len(ids) - 1, 0)} dead letter" in rest.output
        again = runner.invoke(app, ["dead-letters", "--database-url", url])
        assert again.exit_code == 0 and "0 dead letters" in again.output

        shown = runner.invoke(app, ["security-events", "--limit", "100", "--database-url", url])
        assert shown.exit_code == 0, shown.output
        assert all(i in shown.output for i in event_ids) and f"{len(event_ids)} security event" in shown.output

    operate()


def _dead_letters(url: str, records: list[tuple[str, Any] | None], set_aside: list[Any]) -> list[str]:
    """Rows set aside by the exporter (all of ``records``) and by hand with corrupt columns; their ids."""
    asyncio.run(_create(url))
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    ids = []
    for n, corruption in enumerate(records):
        record = access_record(id=f"dl-{n}", at=start + timedelta(seconds=n))
        insert_raw(url, record, **({corruption[0]: corruption[1]} if corruption else {}))
        ids.append(record.id)
    asyncio.run(_export_then_close(open_access_log(url)))
    for n, (when, reason) in enumerate(set_aside):
        record = access_record(id=f"hand-{n}", at=start + timedelta(minutes=n))
        insert_raw(url, record)
        statement = "UPDATE access_record SET set_aside_at = ?, set_aside_reason = ? WHERE id = ?"
        execute_raw(url, statement, when, reason, record.id)
        if when is not None:
            ids.append(record.id)
    return ids


async def _export_then_close(log: AccessLog) -> None:
    try:
        await export_pending(log, _RefuseAll())
    finally:
        await log.aclose()


def _events(url: str, corruptions_: list[tuple[str, Any]]) -> list[str]:
    ids = []
    for n, (column, value) in enumerate(corruptions_):
        values: dict[str, Any] = {
            "id": f"ev-{n}",
            "at": "2026-03-01T09:00:00.000000+00:00",
            "request_id": "req",
            "kind": "unauthenticated",
            "actor_kind": "anonymous",
            "actor": "anonymous",
            "client_id": None,
            "patients": 1,
            "operation_hash": "f" * 64,
        }
        values[column] = value
        columns = ", ".join(values)
        placeholders = ", ".join("?" for _ in values)
        execute_raw(url, f"INSERT INTO security_event ({columns}) VALUES ({placeholders})", *values.values())  # noqa: S608
        ids.append(f"ev-{n}")
    return ids
