"""Open records, on both stores: the record of a change, written before the change (ADR 0007).

An open record is finalised by the request's final write (same id); until then export holds it and
the same patient's later records back, and after the grace it goes as it stands.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from auth.access_log import AccessLog, open_access_log
from auth.export import ExportReport, export_pending
from sources.audit import AccessOutcome, AccessRecord, SinkRefusal
from tests.records import access_record

HANS, KOL = "1403723705", "2309510372"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GRACE_S = 900.0


def change(minute: int, cpr: str = HANS) -> AccessRecord:
    """The open record of a change at ``minute``: unconfirmed, nothing returned yet."""
    return access_record(
        id=f"rec-{minute:03d}",
        at=T0 + timedelta(minutes=minute),
        patient_cpr=cpr,
        activity="write",
        outcome="unconfirmed",
        requested=("master_card_edit",),
        returned=(),
    )


def read(minute: int, cpr: str = HANS) -> AccessRecord:
    return access_record(id=f"rec-{minute:03d}", at=T0 + timedelta(minutes=minute), patient_cpr=cpr)


class Sink:
    def __init__(self) -> None:
        self.took: list[tuple[str, str]] = []

    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        self.took += [(r.id, r.outcome.value) for r in records]
        return []


def at_minute(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


async def test_an_open_record_is_shown_as_unconfirmed_and_held_back_with_the_patients_later_records(
    access_log: AccessLog,
) -> None:
    await access_log.open_writes([change(1)])
    await access_log.write([read(0), read(2), read(3, KOL)])
    sink = Sink()

    report = await export_pending(access_log, sink, now=lambda: at_minute(5), open_grace_s=GRACE_S)

    assert [(r.id, r.outcome) for r in await access_log.for_patient(HANS)] == [
        ("rec-002", "accessed"),
        ("rec-001", "unconfirmed"),
        ("rec-000", "accessed"),
    ]
    assert report == ExportReport(sent=2, set_aside=0)
    assert sink.took == [("rec-000", "accessed"), ("rec-003", "accessed")], "Hans's later read waits, Kol's does not"


async def test_a_finalised_record_replaces_the_open_one_and_goes_out_in_order(access_log: AccessLog) -> None:
    await access_log.open_writes([change(1)])
    await access_log.write([read(2)])
    final = replace(change(1), outcome=AccessOutcome.ACCESSED, returned=change(1).requested)

    await access_log.write([final])
    sink = Sink()
    report = await export_pending(access_log, sink, now=lambda: at_minute(5), open_grace_s=GRACE_S)

    assert await access_log.for_patient(HANS) == [read(2), final]
    assert report == ExportReport(sent=2, set_aside=0)
    assert sink.took == [("rec-001", "accessed"), ("rec-002", "accessed")]


async def test_an_open_record_never_finalised_goes_as_it_stands_after_the_grace(access_log: AccessLog) -> None:
    await access_log.open_writes([change(1)])
    await access_log.write([read(2)])
    sink = Sink()

    report = await export_pending(access_log, sink, now=lambda: at_minute(1 + GRACE_S / 60 + 1), open_grace_s=GRACE_S)

    assert report == ExportReport(sent=2, set_aside=0)
    assert sink.took == [("rec-001", "unconfirmed"), ("rec-002", "accessed")]
    assert await export_pending(access_log, sink) == ExportReport(0, 0), "nothing is stuck"


async def test_a_record_with_the_id_of_a_closed_record_is_refused_not_merged(access_log: AccessLog) -> None:
    await access_log.open_writes([change(1)])
    await access_log.write([replace(change(1), outcome=AccessOutcome.ACCESSED)])

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        await access_log.write([replace(change(1), outcome=AccessOutcome.REFUSED)])

    assert [r.outcome for r in await access_log.for_patient(HANS)] == ["accessed"]


async def test_opening_the_same_record_twice_fails_and_stores_nothing_more(access_log: AccessLog) -> None:
    await access_log.open_writes([change(1)])

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        await access_log.open_writes([change(2), change(1)])

    assert [r.id for r in await access_log.for_patient(HANS)] == ["rec-001"]


async def test_open_records_survive_reopening_the_store(access_log_url: str) -> None:
    first = open_access_log(access_log_url)
    await first.open_writes([change(1)])
    await first.aclose()

    second = open_access_log(access_log_url)
    try:
        assert await second.pending_export(10, at_minute(0)) == []
        assert [r.id for r in await second.pending_export(10, at_minute(2))] == ["rec-001"]
    finally:
        await second.aclose()
