"""The access record stores (the patient's Min Log), on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from typer.testing import CliRunner

from auth.access_log import AccessLog, AccessRecord, open_access_log
from gateway.cli import app
from tests.records import access_record, changed

HANS = "1403723705"
"""Sandbox persona ``hans``."""
KOL = "2309510372"
"""Sandbox persona ``kol_diabetes``."""
DOCTOR = "CBDJ6"
"""Sandbox professional with treatment relations."""
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def record(at: datetime, *, cpr: str = HANS, record_id: str | None = None) -> AccessRecord:
    """A professional's read of ``cpr`` at ``at``."""
    return access_record(
        id=record_id or str(uuid.uuid4()),
        at=at,
        request_id=str(uuid.uuid4()),
        patient_cpr=cpr,
        requested=("master_card", "person"),
        returned=("person",),
        denied=("master_card",),
    )


async def read_all(log: AccessLog, cpr: str = HANS) -> list[AccessRecord]:
    return await log.for_patient(cpr, limit=1000)


async def test_a_written_record_reads_back_field_for_field(access_log: AccessLog) -> None:
    copenhagen = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Copenhagen"))
    written = changed(
        record(copenhagen),
        activity="write",
        actor_kind="assistant",
        actor_id="assistant-17",
        client_id="epj-vendor",
        acting_for_id=DOCTOR,
        acting_for_name="Læge Test",
        requested_cpr=KOL,
        withheld=("appointments", "plans"),
        override_ground="PATIENT_CONSENT",
        override_reason="Patienten samtykker mundtligt",
    )
    await access_log.write([written])

    (read,) = await access_log.for_patient(HANS)
    assert read == written
    assert read.at.utcoffset() == timedelta(0)
    assert read.at == datetime(2025, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert isinstance(read.requested, tuple) and isinstance(read.withheld, tuple)


async def test_records_survive_reopening_the_store(access_log_url: str) -> None:
    first = open_access_log(access_log_url)
    written = record(T0)
    await first.write([written])
    await first.aclose()

    second = open_access_log(access_log_url)
    try:
        assert await second.for_patient(HANS) == [written]
    finally:
        await second.aclose()


async def test_records_come_newest_first(access_log: AccessLog) -> None:
    records = [record(T0 + timedelta(minutes=m)) for m in (5, 0, 30, 10)]
    await access_log.write(records)

    found = await read_all(access_log)
    assert [r.at for r in found] == sorted((r.at for r in records), reverse=True)


async def test_date_filters_include_since_and_exclude_until(access_log: AccessLog) -> None:
    days = [record(T0 + timedelta(days=d)) for d in range(5)]
    await access_log.write(days)

    found = await access_log.for_patient(HANS, since=T0 + timedelta(days=1), until=T0 + timedelta(days=3))
    assert [r.id for r in found] == [days[2].id, days[1].id]
    assert len(await access_log.for_patient(HANS, since=T0 + timedelta(days=4))) == 1
    assert len(await access_log.for_patient(HANS, until=T0)) == 0


async def test_limit_caps_the_page(access_log: AccessLog) -> None:
    await access_log.write([record(T0 + timedelta(seconds=s)) for s in range(5)])

    assert len(await access_log.for_patient(HANS, limit=3)) == 3


async def test_keyset_paging_visits_every_record_once_even_with_equal_timestamps(access_log: AccessLog) -> None:
    same_moment = [record(T0) for _ in range(5)]
    others = [record(T0 + timedelta(seconds=s)) for s in (-1, 1, 2)]
    await access_log.write(same_moment + others)

    seen: list[AccessRecord] = []
    page = await access_log.for_patient(HANS, limit=2)
    while page:
        seen += page
        page = await access_log.for_patient(HANS, limit=2, before=(page[-1].at, page[-1].id))

    expected = sorted(same_moment + others, key=lambda r: (r.at, r.id), reverse=True)
    assert [r.id for r in seen] == [r.id for r in expected]


async def test_keyset_paging_respects_the_date_filter(access_log: AccessLog) -> None:
    records = [record(T0 + timedelta(hours=h)) for h in range(6)]
    await access_log.write(records)

    first = await access_log.for_patient(HANS, since=T0 + timedelta(hours=2), limit=2)
    rest = await access_log.for_patient(HANS, since=T0 + timedelta(hours=2), before=(first[-1].at, first[-1].id))
    assert [r.id for r in first + rest] == [r.id for r in reversed(records[2:])]


async def test_the_count_is_the_rows_the_pages_of_a_range_walk(access_log: AccessLog) -> None:
    records = [record(T0 + timedelta(hours=h)) for h in range(6)] + [record(T0, cpr=KOL)]
    await access_log.write(records)
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=5)

    walked, before = 0, None
    while page := await access_log.for_patient(HANS, since=since, until=until, limit=2, before=before):
        walked += len(page)
        before = (page[-1].at, page[-1].id)

    assert await access_log.log_count(HANS, since=since, until=until) == walked == 3
    assert await access_log.log_count(HANS) == 6 and await access_log.log_count(KOL) == 1
    assert await access_log.log_count("0000000000") == 0


async def test_another_patients_records_never_appear(access_log: AccessLog) -> None:
    await access_log.write([record(T0, cpr=KOL), record(T0, cpr=HANS), record(T0 + timedelta(hours=1), cpr=KOL)])

    found = await access_log.for_patient(HANS, since=T0 - timedelta(days=1), before=(T0 + timedelta(days=1), "z"))
    assert [r.patient_cpr for r in found] == [HANS]
    assert {r.patient_cpr for r in await read_all(access_log, KOL)} == {KOL}
    assert await read_all(access_log, "0000000000") == []


async def test_purge_deletes_only_records_older_than_the_cut_and_reports_the_count(access_log: AccessLog) -> None:
    cut = T0
    old = [record(cut - timedelta(days=800)), record(cut - timedelta(microseconds=1), cpr=KOL)]
    kept = [record(cut), record(cut + timedelta(days=1))]
    await access_log.write(old + kept)

    assert await access_log.purge(cut) == 2
    assert {r.id for r in await read_all(access_log)} == {r.id for r in kept}
    assert await read_all(access_log, KOL) == []
    assert await access_log.purge(cut) == 0


async def test_pending_export_lists_unexported_records_oldest_first_until_marked(access_log: AccessLog) -> None:
    records = [record(T0 + timedelta(minutes=m), cpr=cpr) for m, cpr in ((3, HANS), (1, KOL), (2, HANS))]
    await access_log.write(records)

    pending = [r for r in await access_log.pending_export(limit=10) if isinstance(r, AccessRecord)]
    assert [r.at for r in pending] == [T0 + timedelta(minutes=m) for m in (1, 2, 3)]
    assert len(await access_log.pending_export(limit=2)) == 2

    await access_log.mark_exported([pending[0].id, pending[1].id], T0 + timedelta(hours=1))
    assert [r.id for r in await access_log.pending_export(limit=10)] == [pending[2].id]
    assert len(await read_all(access_log)) == 2, "exported records stay in the patient's log"


async def test_a_failed_write_stores_none_of_the_batch(access_log: AccessLog) -> None:
    stored = record(T0)
    await access_log.write([stored])

    duplicate_in_batch = [record(T0 + timedelta(seconds=1), record_id="dup"), record(T0, record_id="dup")]
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        await access_log.write(duplicate_in_batch)
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        await access_log.write([record(T0 + timedelta(seconds=2)), replace(stored, at=T0 + timedelta(seconds=3))])

    assert await read_all(access_log) == [stored]


async def test_naive_times_are_refused_and_nothing_is_stored(access_log: AccessLog) -> None:
    naive = T0.replace(tzinfo=None)

    with pytest.raises(ValueError, match="timezone-aware"):
        await access_log.write([record(T0), record(naive)])
    with pytest.raises(ValueError, match="timezone-aware"):
        await access_log.for_patient(HANS, since=naive)
    assert await read_all(access_log) == []


@pytest.mark.postgres
def test_postgres_store_made_outside_an_event_loop_opens_on_first_use(postgres_url: str) -> None:
    store = open_access_log(postgres_url)
    written = record(T0)

    async def use() -> list[AccessRecord]:
        try:
            await store.write([written])
            return await store.for_patient(HANS)
        finally:
            await store.aclose()

    assert asyncio.run(use()) == [written]


OLD_SCHEMA = """
CREATE TABLE access_record (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, request_id TEXT NOT NULL, actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL, actor_name TEXT, organisation_sor TEXT, client_id TEXT, on_behalf_of TEXT,
    patient_cpr TEXT NOT NULL, requested TEXT NOT NULL, returned TEXT NOT NULL, denied TEXT NOT NULL,
    withheld TEXT NOT NULL, operation_hash TEXT NOT NULL, operation_name TEXT
);
CREATE INDEX access_record_patient_at ON access_record (patient_cpr, at);
"""


def make_old_database(path: Path, rows: list[tuple[str, datetime]]) -> None:
    """A database as the first version of the gateway wrote it (``at`` via ``isoformat()``)."""
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    lists = [json.dumps(["person"]), json.dumps(["person"]), json.dumps([]), json.dumps([])]
    for record_id, at in rows:
        db.execute(
            "INSERT INTO access_record VALUES"
            " (?, ?, 'req', 'citizen', ?, NULL, NULL, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL)",
            (record_id, at.isoformat(), HANS, HANS, *lists, "f" * 64),
        )
    db.commit()
    db.close()


async def test_sqlite_store_opens_a_database_made_by_the_old_schema_and_reads_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "access.db"
    make_old_database(path, [("old-1", T0), ("old-2", T0 + timedelta(microseconds=500))])

    log = open_access_log(f"sqlite:///{path}")
    try:
        newer = record(T0 + timedelta(seconds=1))
        await log.write([newer])
        found = await read_all(log)
        assert [r.id for r in found] == [newer.id, "old-2", "old-1"]
        old = found[-1]
        assert (old.at, old.activity, old.actor_kind, old.actor_id) == (T0, "read", "citizen", HANS)
        assert (old.requested, old.returned, old.denied) == (("person",), ("person",), ())
        assert old.profession is None and old.override_ground is None and old.requested_cpr is None
        assert [r.id for r in await log.for_patient(HANS, until=T0 + timedelta(seconds=1))] == ["old-2", "old-1"]
        assert [r.id for r in await log.for_patient(HANS, since=T0, until=T0 + timedelta(microseconds=1))] == ["old-1"]
        assert [r.id for r in await log.pending_export(limit=10)] == ["old-1", "old-2", newer.id]
    finally:
        await log.aclose()

    reopened = open_access_log(f"sqlite:///{path}")
    try:
        assert len(await read_all(reopened)) == 3
    finally:
        await reopened.aclose()


async def test_relative_sqlite_url_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = open_access_log("sqlite:///var/relative.db")
    await log.aclose()

    assert (tmp_path / "var" / "relative.db").is_file()


def test_unknown_url_scheme_is_refused_without_echoing_the_url() -> None:
    with pytest.raises(ValueError, match="unsupported access log URL scheme 'mysql'") as refused:
        open_access_log("mysql://auditor:s3cret@db.example/audit")

    assert "s3cret" not in str(refused.value)


def test_purge_command_deletes_entries_older_than_two_years(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'access.db'}"
    now = datetime.now(UTC)
    recent, ancient = record(now - timedelta(days=700)), record(now - timedelta(days=731))

    async def seed() -> None:
        log = open_access_log(url)
        await log.write([recent, ancient])
        await log.aclose()

    async def remaining() -> list[str]:
        log = open_access_log(url)
        try:
            return [r.id for r in await read_all(log)]
        finally:
            await log.aclose()

    asyncio.run(seed())
    result = CliRunner().invoke(app, ["purge-access-log", "--database-url", url])

    assert result.exit_code == 0, result.output
    assert "deleted 1 access-log entry " in result.output
    assert HANS not in result.output
    assert asyncio.run(remaining()) == [recent.id]


def test_purge_command_takes_a_shorter_retention(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'access.db'}"
    now = datetime.now(UTC)

    async def seed() -> None:
        log = open_access_log(url)
        await log.write([record(now - timedelta(days=40)), record(now - timedelta(days=2))])
        await log.aclose()

    asyncio.run(seed())
    result = CliRunner().invoke(app, ["purge-access-log", "--database-url", url, "--older-than-days", "30"])

    assert result.exit_code == 0, result.output
    assert "deleted 1 access-log entry " in result.output
