"""Min Log as the patient reads it: every kind of accessor in plain Danish, and the range and paging rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from resolvers.access_log import CURSOR, RANGE, AccessLogEntry, log_window, read_access_log
from resolvers.bounds import years_before
from resolvers.paging import PAGE
from sources.audit import (
    AccessActivity,
    AccessCursor,
    AccessLogPage,
    AccessorKind,
    AccessOutcome,
    AccessRecord,
    OverrideGround,
)
from sources.categories import DataCategory
from tests.records import access_record
from tests.resolvers.test_paging import raw

HANS = "1403723705"
REPRESENTATIVE_CPR = "0201609996"  # MedCom test person Lonni Test Lauridsen
NEPHROLOGY = "Nyremedicinsk afdeling, OUH"
NOON = datetime(2026, 5, 4, 10, 15, tzinfo=UTC)

VIEWED = {
    "at": NOON,
    "organisation_sor": "378671000016008",
    "organisation_name": NEPHROLOGY,
    "client_id": "patientoverblik-demo",
    "requested": ("appointments", "diagnoses"),
    "returned": ("appointments", "diagnoses"),
}
"""This file's doctor read appointments and diagnoses, at noon in summer, through a client, in another unit."""


def record(**fields: object) -> AccessRecord:
    return access_record(**VIEWED | fields)


def citizen(actor_id: str = HANS, **fields: object) -> AccessRecord:
    person = {
        "actor_kind": "citizen",
        "actor_name": "Hans Test Jensen",
        "profession": None,
        "organisation_sor": None,
        "organisation_name": None,
    }
    return record(actor_id=actor_id, **person | fields)


def entry(r: AccessRecord) -> AccessLogEntry:
    return AccessLogEntry.from_record(r)


def test_a_doctor_who_overrode_blocks_is_told_with_ground_and_reason():
    e = entry(record(override_ground="NOT_CONTACTABLE", override_reason="Bevidstløs ved indlæggelse"))

    assert e.summary == (
        "Mette Test Larsen (læge, Nyremedicinsk afdeling, OUH) så dine aftaler og dine diagnoser. "
        'Spærringen blev brudt (værdispring): Du kunne ikke kontaktes \N{EN DASH} "Bevidstløs ved indlæggelse".'
    )
    assert e.override is not None
    assert e.override.ground is OverrideGround.NOT_CONTACTABLE
    assert e.override.ground_text == "Du kunne ikke kontaktes"
    assert e.override.reason == "Bevidstløs ved indlæggelse"
    assert (e.who, e.role, e.who_kind) == ("Mette Test Larsen", "Læge", AccessorKind.PROFESSIONAL)
    assert (e.organisation_name, e.organisation_sor_id) == (NEPHROLOGY, "378671000016008")
    assert e.what == ["dine aftaler", "dine diagnoser"]
    assert e.categories == [DataCategory.APPOINTMENTS, DataCategory.DIAGNOSES]


def test_consent_as_ground_says_the_patient_agreed():
    e = entry(record(returned=("appointments",), override_ground="PATIENT_CONSENT", override_reason="Aftalt i telefon"))

    assert e.override is not None and e.override.ground_text == "Du gav samtykke"
    assert e.summary.endswith('Spærringen blev brudt (værdispring): Du gav samtykke \N{EN DASH} "Aftalt i telefon".')


def test_no_override_means_no_override_and_no_mention_of_it():
    e = entry(record())

    assert e.override is None
    assert "værdispring" not in e.summary


def test_the_patient_reading_their_own_log_is_you():
    e = entry(citizen(requested=("access_log",), returned=("access_log",)))

    assert (e.who, e.role, e.who_kind) == ("Dig selv", "Dig", AccessorKind.CITIZEN)
    assert e.summary == "Du så din log."
    assert e.what == ["din log"]
    assert e.at.utcoffset() == timedelta(hours=2)  # Danish summer time


@pytest.mark.parametrize(
    ("kind", "role", "summary"),
    [
        (
            "representative",
            "Din repræsentant med fuldmagt",
            "Lonni Test Lauridsen (din repræsentant med fuldmagt) så dit stamkort.",
        ),
        (
            "parent",
            "Forælder med forældremyndighed",
            "Lonni Test Lauridsen (din forælder med forældremyndighed) så dit stamkort.",
        ),
        ("guardian", "Værge", "Lonni Test Lauridsen (din værge) så dit stamkort."),
    ],
)
def test_people_acting_for_the_patient_are_named_with_their_relation(kind: str, role: str, summary: str):
    r = citizen(REPRESENTATIVE_CPR, actor_kind=kind, actor_name="Lonni Test Lauridsen", returned=("master_card",))

    e = entry(r)

    assert (e.who, e.role, e.summary) == ("Lonni Test Lauridsen", role, summary)
    assert e.who_kind is AccessorKind(kind)


@pytest.mark.parametrize("kind", ["representative", "parent", "guardian", "citizen"])
@pytest.mark.parametrize("name", ["Lonni Test Lauridsen", None, "", f"Lonni {REPRESENTATIVE_CPR}", "020160-9996"])
def test_a_representatives_cpr_number_never_appears_in_any_field(kind: str, name: str | None):
    r = citizen(REPRESENTATIVE_CPR, actor_kind=kind, actor_name=name, requested_cpr=None, denied=("diagnoses",))

    e = entry(r)

    shown = repr(e)
    assert REPRESENTATIVE_CPR not in shown and "020160-9996" not in shown
    assert e.who and e.role and e.summary


def test_a_representative_without_a_name_is_described_by_their_relation():
    e = entry(citizen(REPRESENTATIVE_CPR, actor_kind="representative", actor_name=None, returned=("master_card",)))

    assert e.who == "Din repræsentant"
    assert e.summary == "Din repræsentant med fuldmagt så dit stamkort."


def test_another_citizen_who_was_refused_is_not_you():
    r = citizen(REPRESENTATIVE_CPR, actor_name="Lonni Test Lauridsen", returned=(), denied=("person", "gp"))

    e = entry(r)

    assert e.who == "Lonni Test Lauridsen"
    assert e.summary == (
        "Lonni Test Lauridsen (en anden borger) forsøgte at se dine oplysninger fra CPR og din egen læge, "
        "men fik ikke adgang."
    )


def test_an_assistant_is_shown_acting_for_the_responsible_doctor():
    r = record(
        actor_kind="assistant",
        actor_id="assistant-77",
        actor_name="Per Test Holm",
        acting_for_id="CBDJ6",
        acting_for_name="Mette Test Larsen",
        returned=("appointments",),
    )

    e = entry(r)

    assert (e.who, e.role, e.on_behalf_of) == ("Per Test Holm", "Medhjælp for Mette Test Larsen", "Mette Test Larsen")
    assert e.summary == "Per Test Holm (medhjælp for Mette Test Larsen, Nyremedicinsk afdeling, OUH) så dine aftaler."
    assert "assistant-77" not in repr(e) and "CBDJ6" not in repr(e)


def test_a_vendor_system_is_named_with_the_professional_it_acted_for():
    e = entry(record(actor_kind="system", client_id="epj-nord", returned=("diagnoses",)))

    assert (e.who, e.role, e.system) == ("Mette Test Larsen", "Læge via fagsystem", "epj-nord")
    assert e.summary == (
        "Mette Test Larsen (læge, Nyremedicinsk afdeling, OUH, via fagsystemet epj-nord) så dine diagnoser."
    )


def test_a_professional_without_a_name_is_described_by_profession_and_place():
    e = entry(record(actor_name=None, returned=("appointments",)))

    assert (e.who, e.role) == ("En læge", "Læge")
    assert e.summary == "En læge (Nyremedicinsk afdeling, OUH) så dine aftaler."


def test_the_client_is_only_shown_for_vendor_systems():
    assert entry(record()).system is None
    assert entry(citizen()).system is None


def test_a_refused_professional_tried_but_got_no_access():
    e = entry(record(returned=(), denied=("appointments", "diagnoses")))

    assert e.summary == (
        "Mette Test Larsen (læge, Nyremedicinsk afdeling, OUH) forsøgte at se dine aftaler og dine diagnoser, "
        "men fik ikke adgang."
    )
    assert e.what == [] and e.categories == []
    assert e.denied == [DataCategory.APPOINTMENTS, DataCategory.DIAGNOSES]


def test_partly_refused_reads_say_what_was_seen_and_what_was_not():
    e = entry(record(returned=("appointments",), denied=("diagnoses",)))

    assert e.summary == (
        "Mette Test Larsen (læge, Nyremedicinsk afdeling, OUH) så dine aftaler, men fik ikke adgang til dine diagnoser."
    )


def test_blocks_that_narrowed_what_was_shown_are_mentioned():
    e = entry(record(returned=("appointments",), withheld=("appointments",)))

    assert e.withheld == [DataCategory.APPOINTMENTS]
    assert e.summary.endswith(" så dine aftaler. Dine spærringer begrænsede, hvad der blev vist af dine aftaler.")


def test_a_lookup_that_found_nothing_says_so():
    e = entry(record(requested=("master_card",), returned=()))

    assert (
        e.summary == "Mette Test Larsen (læge, Nyremedicinsk afdeling, OUH) søgte efter dit stamkort, men fandt intet."
    )


def test_a_change_reads_as_a_change():
    r = citizen(
        REPRESENTATIVE_CPR,
        actor_kind="representative",
        actor_name="Lonni Test Lauridsen",
        activity="write",
        requested=("master_card", "master_card_edit"),
        returned=("master_card", "master_card_edit"),
    )

    e = entry(r)

    assert e.activity is AccessActivity.WRITE
    assert e.what == ["dit stamkort", "ændring af dit stamkort"]
    assert e.summary == "Lonni Test Lauridsen (din repræsentant med fuldmagt) ændrede dit stamkort."


def test_the_patient_changing_their_own_blocks():
    e = entry(citizen(activity="write", requested=("blocks_edit",), returned=("blocks_edit",)))

    assert e.summary == "Du ændrede dine spærringer."
    assert e.what == ["ændring af dine spærringer"]


def test_every_category_has_plain_danish_words():
    every = tuple(DataCategory)
    e = entry(citizen(returned=every))

    assert len(e.what) == len(every) - 1  # whether registrations exist is told by their content
    assert "dine oplysninger fra CPR" in e.what
    assert "dine registreringer i testamente- og donorregistrene" in e.what
    assert not any("_" in words for words in e.what)


def test_a_refused_patient_with_nothing_asked_for_reads_as_refused_not_as_an_access():
    r = citizen(REPRESENTATIVE_CPR, actor_name="Lonni Test Lauridsen", requested=(), returned=(), outcome="refused")

    e = entry(r)

    assert e.outcome is AccessOutcome.REFUSED
    assert e.summary == "Lonni Test Lauridsen (en anden borger) forsøgte at åbne dit overblik, men fik ikke adgang."


def test_an_override_that_lifted_nothing_is_not_a_record_field_so_only_a_lifting_one_is_told():
    lifted = entry(record(override_ground="PATIENT_CONSENT", override_reason="Aftalt i telefon"))
    plain = entry(record())

    assert lifted.override is not None and "Spærringen blev brudt" in lifted.summary
    assert plain.override is None and "Spærringen" not in plain.summary


# The range: Danish local dates, two years back at most.

TODAY = date(2026, 11, 20)


def test_the_default_range_is_the_two_years_the_log_keeps():
    window = log_window(None, None, TODAY)

    assert (window.start, window.end) == (date(2024, 11, 20), TODAY)
    assert window.since == datetime(2024, 11, 19, 23, tzinfo=UTC)
    assert window.until is None


def test_local_dates_become_a_half_open_utc_range_across_summer_time():
    window = log_window(date(2026, 3, 29), date(2026, 10, 25), TODAY)

    assert window.since == datetime(2026, 3, 28, 23, tzinfo=UTC)  # CET, UTC+1
    assert window.until == datetime(2026, 10, 25, 23, tzinfo=UTC)  # midnight after 25 October, CET again


def test_a_range_reaching_a_day_beyond_two_years_is_allowed_but_not_further():
    assert log_window(date(2024, 11, 19), None, TODAY).start == date(2024, 11, 19)
    assert list(RANGE.refusals({"from": date(2024, 11, 19), "to": None}, TODAY)) == []

    (refusal,) = RANGE.refusals({"from": date(2024, 11, 18), "to": None}, TODAY)
    assert refusal.path == ("from",)


@pytest.mark.parametrize(
    ("start", "end", "argument"),
    [
        (date(2026, 11, 10), date(2026, 11, 9), "to"),
        (date(2026, 12, 1), None, "from"),
        (None, date(2023, 1, 1), "to"),
    ],
)
def test_a_bad_range_names_the_argument(start: date | None, end: date | None, argument: str):
    refusals = list(RANGE.refusals({"from": start, "to": end}, TODAY))

    assert {r.path for r in refusals} == {(argument,)}


def test_two_years_before_a_leap_day_is_the_28th():
    assert years_before(date(2028, 2, 29), 2) == date(2026, 2, 28)


# Paging: the store's keyset, through an opaque cursor.


class FakeLog:
    """An in-memory store keeping the reader's contract: newest first, keyset by (at, id)."""

    def __init__(self, records: list[AccessRecord]) -> None:
        self.records = records
        self.asked: list[dict[str, object]] = []

    async def log_page(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> AccessLogPage:
        self.asked.append({"since": since, "until": until, "limit": limit, "before": before})
        found = [
            r
            for r in self.records
            if r.patient_cpr == cpr
            and (since is None or r.at >= since)
            and (until is None or r.at < until)
            and (before is None or (r.at, r.id) < before)
        ]
        rows = sorted(found, key=lambda r: (r.at, r.id), reverse=True)[: limit + 1]
        page = rows[:limit]
        return AccessLogPage(tuple(page), (page[-1].at, page[-1].id) if page else None, len(rows) > limit)

    async def log_count(self, cpr: str, *, since: datetime | None = None, until: datetime | None = None) -> int:
        self.asked.append({"since": since, "until": until, "count": True})
        return sum(
            1
            for r in self.records
            if r.patient_cpr == cpr and (since is None or r.at >= since) and (until is None or r.at < until)
        )


def many(n: int) -> list[AccessRecord]:
    # pairs share a timestamp, so the ID has to break ties
    return [record(id=f"rec-{i:02d}", at=NOON - timedelta(hours=i // 2)) for i in range(n)]


async def test_paging_walks_every_entry_once_newest_first():
    log = FakeLog(many(7))
    window = log_window(None, None, date(2026, 5, 4))
    seen: list[str] = []
    after = None
    while True:
        page = await read_access_log(log, HANS, window, 3, after)
        seen += [str(e.id) for e in page.nodes]
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor

    assert sorted(seen) == sorted(r.id for r in log.records) and len(seen) == 7
    assert seen == [r.id for r in sorted(log.records, key=lambda r: (r.at, r.id), reverse=True)]
    assert all(asked["limit"] == 3 for asked in log.asked)


async def test_the_total_counts_the_range_in_the_store_and_only_when_asked():
    log = FakeLog(many(7))
    window = log_window(None, None, date(2026, 5, 4))

    page = await read_access_log(log, HANS, window, 3, None)
    assert [a for a in log.asked if "count" in a] == []

    assert await page.total_count() == 7 and len(page.nodes) == 3
    assert log.asked[-1] == {"since": window.since, "until": window.until, "count": True}


async def test_a_later_page_starts_after_a_cursor_and_knows_its_first_entry():
    log = FakeLog(many(5))
    window = log_window(None, None, date(2026, 5, 4))
    first = await read_access_log(log, HANS, window, 2, None)
    second = await read_access_log(log, HANS, window, 2, first.page_info.end_cursor)

    assert not first.page_info.has_previous_page and second.page_info.has_previous_page
    assert second.page_info.start_cursor not in (None, first.page_info.end_cursor)
    after_start = await read_access_log(log, HANS, window, 2, second.page_info.start_cursor)
    assert [e.id for e in after_start.nodes] == [second.nodes[1].id, "rec-04"]


async def test_an_exactly_full_last_page_has_no_next_page():
    page = await read_access_log(FakeLog(many(3)), HANS, log_window(None, None, date(2026, 5, 4)), 3, None)

    assert len(page.nodes) == 3 and not page.page_info.has_next_page


async def test_an_empty_log_has_no_cursor():
    page = await read_access_log(FakeLog([]), HANS, log_window(None, None, TODAY), 20, None)

    assert page.nodes == [] and page.page_info.end_cursor is None and not page.page_info.has_next_page


async def test_the_range_is_passed_to_the_store():
    log = FakeLog(many(2))
    window = log_window(date(2026, 5, 1), date(2026, 5, 3), date(2026, 5, 4))

    page = await read_access_log(log, HANS, window, 20, None)

    assert page.nodes == []
    assert log.asked[0]["since"] == datetime(2026, 4, 30, 22, tzinfo=UTC)
    assert log.asked[0]["until"] == datetime(2026, 5, 3, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        raw("appointments", 0, "rec-1"),  # an appointment list's cursor
        raw("other", 0, "rec-1"),
        raw("minlog", "2026-05-04T12:00:00", "rec-1"),
        raw("minlog", 0),
        raw("minlog", 10**20, "rec-1"),  # no moment a store holds
        "WyJtaW5sb2ciLDAsdHJ1ZV0",  # ["minlog",0,true]
    ],
)
def test_a_malformed_or_foreign_cursor_is_out_of_the_cursor_bound(cursor: str):
    """The gateway refuses it before execution (``gateway.arguments``); the store is never asked."""
    assert [r.path for r in CURSOR.bound.refusals(cursor)] == [()]
    assert list(CURSOR.bound.refusals(raw("minlog", 0, "rec-1"))) == []


@pytest.mark.parametrize("first", [0, 101, -1])
def test_page_size_is_between_1_and_100(first: int):
    assert [r.path for r in PAGE.refusals(first)] == [()]
    assert list(PAGE.refusals(1)) == list(PAGE.refusals(100)) == []
