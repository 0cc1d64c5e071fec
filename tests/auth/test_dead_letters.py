"""The export queue's dead letters and the security log, on both stores (SQLite and PostgreSQL).

A record export can never send is set aside with its reason, listed without personal data, and put
back by the operator; a stored row outside the vocabulary (the ``anonymous`` rows older versions
wrote) neither crashes a read nor stalls the export; security events are kept beside the records.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from auth.access_log import AccessLog, ExportStatus, UnreadableRecord, open_access_log
from auth.access_log_rows import ANONYMOUS_ROW
from auth.export import ExportReport, export_pending
from auth.security_events import SecurityEvent, SecurityEventKind
from sources.audit import AccessRecord, ActorKind, SinkRefusal
from tests.auth.stored_rows import insert_raw
from tests.records import access_record

HANS = "1403723705"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=5)


def record(minute: int, cpr: str = HANS) -> AccessRecord:
    return access_record(id=f"rec-{minute:03d}", at=T0 + timedelta(minutes=minute), patient_cpr=cpr)


class Sink:
    """Takes everything but ``refuse``; remembers what it took, in order."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.took: list[str] = []

    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        self.took += [r.id for r in records if r.id not in self.refuse]
        return [SinkRefusal(r.id, "Min Log refused the entry (status 400)") for r in records if r.id in self.refuse]


async def test_a_record_set_aside_leaves_the_queue_and_is_listed_with_its_reason_only(access_log: AccessLog) -> None:
    await access_log.write([record(1), record(2), record(3)])

    await access_log.set_aside({"rec-002": f"Min Log refused the entry (status 400)   {'x' * 300}"}, LATER)

    assert [r.id for r in await access_log.pending_export(10)] == ["rec-001", "rec-003"]
    (letter,) = await access_log.dead_letters()
    assert (letter.id, letter.at, letter.set_aside_at) == ("rec-002", T0 + timedelta(minutes=2), LATER)
    assert letter.reason.startswith("Min Log refused the entry (status 400) x") and len(letter.reason) == 200
    assert HANS not in repr(letter)
    assert await access_log.export_status() == ExportStatus(pending=2, exported=0, set_aside=1)
    assert len(await access_log.for_patient(HANS)) == 3, "a dead letter stays in the patient's log"


async def test_setting_aside_touches_only_pending_records(access_log: AccessLog) -> None:
    await access_log.write([record(1)])
    await access_log.mark_exported(["rec-001"], LATER)

    await access_log.set_aside({"rec-001": "late refusal", "no-such-record": "nothing"}, LATER)

    assert await access_log.dead_letters() == []
    assert await access_log.export_status() == ExportStatus(pending=0, exported=1, set_aside=0)


async def test_the_operator_puts_dead_letters_back_by_id_or_all(access_log: AccessLog) -> None:
    await access_log.write([record(m) for m in (1, 2, 3)])
    await access_log.set_aside({"rec-001": "a", "rec-002": "b", "rec-003": "c"}, LATER)

    assert await access_log.retry_dead_letters(["rec-002", "no-such-record"]) == 1
    assert [r.id for r in await access_log.pending_export(10)] == ["rec-002"]
    assert await access_log.retry_dead_letters() == 2
    assert [r.id for r in await access_log.pending_export(10)] == ["rec-001", "rec-002", "rec-003"]
    assert await access_log.dead_letters() == []


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_kind", "robot"),
        ("activity", "delete"),
        ("outcome", "maybe"),
        ("override_ground", "BECAUSE"),
        ("denied", ["person", "x-newer-category"]),
    ],
)
async def test_a_stored_row_outside_the_vocabulary_is_not_shown_and_is_set_aside_by_export(
    access_log: AccessLog, access_log_url: str, column: str, value: object
) -> None:
    await access_log.write([record(1)])  # opens (and creates) the store
    insert_raw(access_log_url, record(2), **{column: value})
    await access_log.write([record(3)])

    shown = await access_log.for_patient(HANS)
    pending = await access_log.pending_export(10)
    sink = Sink()
    report = await export_pending(access_log, sink, now=lambda: LATER)

    assert [r.id for r in shown] == ["rec-003", "rec-001"]
    assert pending[1] == UnreadableRecord("rec-002", f"stored record has a value outside the vocabulary in {column}")
    assert report == ExportReport(sent=2, set_aside=1) and sink.took == ["rec-001", "rec-003"]
    (letter,) = await access_log.dead_letters()
    assert letter.id == "rec-002" and column in letter.reason and str(value) not in letter.reason


async def test_a_refused_record_never_holds_back_the_records_behind_it(access_log: AccessLog) -> None:
    await access_log.write([record(m, cpr) for m, cpr in ((1, HANS), (2, HANS), (3, "2309510372"), (4, HANS))])
    sink = Sink(refuse=frozenset({"rec-001"}))

    report = await export_pending(access_log, sink, batch_size=1, now=lambda: LATER)

    assert report == ExportReport(sent=3, set_aside=1)
    assert sink.took == ["rec-002", "rec-003", "rec-004"]
    assert await access_log.export_status() == ExportStatus(pending=0, exported=3, set_aside=1)
    assert await export_pending(access_log, sink) == ExportReport(0, 0), "nothing is stuck"


def security_event(at: datetime, kind: SecurityEventKind = SecurityEventKind.UNAUTHENTICATED) -> SecurityEvent:
    return SecurityEvent(
        id=str(uuid.uuid4()),
        at=at,
        request_id="req-1",
        kind=kind,
        actor_kind=ActorKind.ANONYMOUS,
        actor="anonymous",
        client_id=None,
        patients=30,
        operation_hash="f" * 64,
    )


async def test_security_events_are_kept_beside_the_records_newest_first_and_purged_with_them(
    access_log: AccessLog,
) -> None:
    old, new = security_event(T0), security_event(LATER, SecurityEventKind.OVERRIDE_NOT_ALLOWED)
    await access_log.write([], [old])
    await access_log.write([record(1)], [new])

    assert await access_log.security_events() == [new, old]
    assert [r.id for r in await access_log.pending_export(10)] == ["rec-001"], "security events are never exported"
    await access_log.purge(T0 + timedelta(hours=1))
    assert await access_log.security_events() == [new]


V1_SQLITE = """
CREATE TABLE access_record (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, request_id TEXT NOT NULL, activity TEXT NOT NULL DEFAULT 'read',
    actor_kind TEXT NOT NULL, actor_id TEXT NOT NULL, actor_name TEXT, profession TEXT, organisation_sor TEXT,
    organisation_name TEXT, client_id TEXT, acting_for_id TEXT, acting_for_name TEXT, patient_cpr TEXT NOT NULL,
    requested_cpr TEXT, requested TEXT NOT NULL, returned TEXT NOT NULL, denied TEXT NOT NULL, withheld TEXT NOT NULL,
    override_ground TEXT, override_reason TEXT, operation_hash TEXT NOT NULL, operation_name TEXT, exported_at TEXT
);
CREATE INDEX access_record_pending_export ON access_record (at, id) WHERE exported_at IS NULL;
PRAGMA user_version = 1;
"""
"""A ``var/access.db`` as the gateway wrote it before dead letters (schema version 1)."""

V1_POSTGRES = """
CREATE TABLE access_record (
    id text COLLATE "C" PRIMARY KEY, at timestamptz NOT NULL, request_id text NOT NULL,
    activity text NOT NULL DEFAULT 'read', actor_kind text NOT NULL, actor_id text NOT NULL, actor_name text,
    profession text, organisation_sor text, organisation_name text, client_id text, acting_for_id text,
    acting_for_name text, patient_cpr text NOT NULL, requested_cpr text, requested text[] NOT NULL,
    returned text[] NOT NULL, denied text[] NOT NULL, withheld text[] NOT NULL, override_ground text,
    override_reason text, operation_hash text NOT NULL, operation_name text, exported_at timestamptz
);
CREATE INDEX access_record_pending_export ON access_record (at, id) WHERE exported_at IS NULL;
"""
"""The PostgreSQL table as the gateway made it before dead letters."""

V1_ROWS = [
    # id, minute, actor kind, returned, denied, exported
    ("old-anonymous", 1, "anonymous", [], [], False),
    ("old-read", 2, "professional", ["appointments"], [], False),
    ("old-refused", 3, "citizen", [], ["person"], True),
]


async def test_an_old_store_is_migrated_in_place_and_its_anonymous_row_neither_shows_nor_stalls(
    access_log_url: str,
) -> None:
    make_v1_store(access_log_url)

    log = open_access_log(access_log_url)
    try:
        shown = await log.for_patient(HANS)
        assert [(r.id, r.outcome) for r in shown] == [("old-refused", "refused"), ("old-read", "accessed")]
        sink = Sink()
        assert await export_pending(log, sink, now=lambda: LATER) == ExportReport(sent=1, set_aside=1)
        assert sink.took == ["old-read"]
        (letter,) = await log.dead_letters()
        assert (letter.id, letter.reason) == (
            "old-anonymous",
            ANONYMOUS_ROW,
        )
        await log.write([record(9)], [security_event(LATER)])
    finally:
        await log.aclose()

    reopened = open_access_log(access_log_url)  # a second open migrates nothing again
    try:
        assert await reopened.export_status() == ExportStatus(pending=1, exported=2, set_aside=1)
        assert len(await reopened.security_events()) == 1
    finally:
        await reopened.aclose()


def make_v1_store(url: str) -> None:
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.executescript(V1_SQLITE)
        for record_id, minute, kind, returned, denied, exported in V1_ROWS:
            at = (T0 + timedelta(minutes=minute)).isoformat(timespec="microseconds")
            db.execute(
                "INSERT INTO access_record (id, at, request_id, actor_kind, actor_id, patient_cpr, requested, returned,"
                " denied, withheld, operation_hash, exported_at)"
                " VALUES (?, ?, 'req', ?, 'CBDJ6', ?, ?, ?, ?, '[]', ?, ?)",
                (record_id, at, kind, HANS, '["person"]', json.dumps(returned), json.dumps(denied), "f" * 64,
                 at if exported else None),
            )  # fmt: skip
        db.commit()
        db.close()
        return
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(V1_POSTGRES)
        for record_id, minute, kind, returned, denied, exported in V1_ROWS:
            when = T0 + timedelta(minutes=minute)
            server.execute(
                "INSERT INTO access_record (id, at, request_id, actor_kind, actor_id, patient_cpr, requested, returned,"
                " denied, withheld, operation_hash, exported_at) VALUES (%s, %s, 'req', %s, 'CBDJ6', %s, %s, %s, %s,"
                " '{}', %s, %s)",
                (record_id, when, kind, HANS, ["person"], returned, denied, "f" * 64, when if exported else None),
            )
