"""Merging appointments from many endpoints, and the list, day and week views over the result."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from resolvers.appointments import (
    CURSOR,
    EVERY_DAY,
    RANGE,
    AppointmentFilter,
    Appointments,
    apply_filter,
    window_of,
)
from resolvers.gather import appointment_allowed, merge_appointments
from sources.clinical import (
    AppointmentRecord,
    AppointmentStatus,
    BlockRule,
    DateWindow,
    ItemFilter,
    LocationRecord,
    OrganisationKind,
    OrganisationRef,
)
from sources.payloads import COPENHAGEN

HANS = "1403723705"
OUH = OrganisationRef("378631000016009", "OUH", OrganisationKind.REGION)
HOME_CARE = OrganisationRef("359011000016007", "Hjemmeplejen", OrganisationKind.MUNICIPALITY)
GP = OrganisationRef("61741000016007", "Lægerne Hasseris", OrganisationKind.GP)


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=COPENHAGEN)


def appointment(ident: str, start: datetime, org: OrganisationRef = OUH, **kw: object) -> AppointmentRecord:
    fields: dict[str, object] = {"end": start + timedelta(minutes=30), "status": AppointmentStatus.BOOKED} | kw
    return AppointmentRecord(ident, HANS, "test", org, start=start, **fields)  # type: ignore[arg-type]


def view(
    records: list[AppointmentRecord], first: date = date(2026, 11, 16), last: date = date(2026, 11, 29)
) -> Appointments:
    return Appointments(start=first, end=last, withheld=False, complete=True, sources=[], records=records)


def test_the_same_appointment_from_two_endpoints_appears_once_newest_version_winning():
    old = appointment("a1", at(20), version=1)
    new = appointment("a1", at(21), version=2)
    other = appointment("a2", at(19), HOME_CARE)

    merged = merge_appointments([new, other, old])

    assert [(r.id, r.start) for r in merged] == [("a2", at(19)), ("a1", at(21))]


def test_ties_on_start_are_ordered_by_id_so_the_list_is_stable():
    merged = merge_appointments([appointment("b", at(20)), appointment("a", at(20))])

    assert [r.id for r in merged] == ["a", "b"]


def test_an_item_at_a_blocked_place_is_dropped_even_if_its_performer_is_allowed():
    item_filter = ItemFilter((BlockRule(frozenset({"378671000016008"})),))
    at_dialysis = appointment("a", at(20), GP, location=LocationRecord(sor="378671000016008"))

    assert not appointment_allowed(at_dialysis, item_filter, DateWindow())
    assert appointment_allowed(appointment("b", at(20), GP), item_filter, DateWindow())


def test_items_outside_the_window_are_dropped_on_the_way_out():
    window = DateWindow(date(2026, 11, 20), date(2026, 11, 21))

    assert appointment_allowed(appointment("a", at(20, 23)), ItemFilter(), window)
    assert not appointment_allowed(appointment("b", at(21, 0)), ItemFilter(), window)


def test_the_list_view_pages_with_a_cursor_until_the_end():
    records = merge_appointments([appointment(f"a{n}", at(16 + n % 10, 8 + n % 5)) for n in range(7)])
    seen: list[str] = []
    after = None
    while True:
        page = view(records).list_view(first=3, after=after)
        seen += [str(n.id) for n in page.nodes]
        assert page.total == 7
        if not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert seen == [r.id for r in records]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "", "MjAyNg"])
def test_a_foreign_cursor_is_out_of_the_cursor_bound(cursor):
    """The gateway refuses it before execution (``gateway.arguments``)."""
    assert [r.path for r in CURSOR.bound.refusals(cursor)] == [()]
    page = view([appointment("a", at(20)), appointment("b", at(21))]).list_view(first=1)
    assert list(CURSOR.bound.refusals(page.page_info.end_cursor)) == []


def test_the_day_view_puts_a_multi_day_appointment_on_every_day_it_covers():
    multi = appointment("m", at(17, 9), end=at(19, 15))
    all_day = appointment("d", at(20, 0), all_day=True, end=at(21, 0))

    days = view(merge_appointments([multi, all_day])).days()

    assert [(d.day, [str(a.id) for a in d.appointments]) for d in days] == [
        (date(2026, 11, 17), ["m"]),
        (date(2026, 11, 18), ["m"]),
        (date(2026, 11, 19), ["m"]),
        (date(2026, 11, 20), ["d"]),
    ]


def test_empty_days_are_listed_for_at_most_a_year():
    year = (date(2026, 1, 1), date(2026, 12, 31))
    assert list(EVERY_DAY.refusals({"includeEmptyDays": True}, year)) == []
    assert list(EVERY_DAY.refusals({"includeEmptyDays": False}, (date(2025, 1, 1), date(2026, 6, 1)))) == []
    (refusal,) = EVERY_DAY.refusals({"includeEmptyDays": True}, (date(2025, 1, 1), date(2026, 1, 2)))
    assert refusal.path == ("includeEmptyDays",)


def test_the_day_view_can_show_every_day_of_the_range():
    days = view([appointment("a", at(20))], date(2026, 11, 16), date(2026, 11, 22)).days(include_empty_days=True)

    assert [d.day.day for d in days] == [16, 17, 18, 19, 20, 21, 22]
    assert [len(d.appointments) for d in days] == [0, 0, 0, 0, 1, 0, 0]


def test_the_week_view_groups_by_iso_week_monday_first():
    records = merge_appointments([appointment("a", at(17)), appointment("b", at(22)), appointment("c", at(24))])

    weeks = view(records).weeks()

    assert [(w.year, w.week, w.start, w.end) for w in weeks] == [
        (2026, 47, date(2026, 11, 16), date(2026, 11, 22)),
        (2026, 48, date(2026, 11, 23), date(2026, 11, 29)),
    ]
    assert [[str(a.id) for d in w.days for a in d.appointments] for w in weeks] == [["a", "b"], ["c"]]


def test_times_are_shown_in_danish_time_whatever_the_source_sent():
    utc_start = datetime(2026, 7, 1, 8, 0, tzinfo=COPENHAGEN).astimezone(tz=None)
    node = view([appointment("a", utc_start)], date(2026, 7, 1), date(2026, 7, 1)).list_view().nodes[0]

    assert node.start.utcoffset() == timedelta(hours=2)
    assert node.start.hour == 8


def test_filters_by_sector_place_and_status_and_cancelled_are_left_out_by_default():
    records = [
        appointment("a", at(20), OUH),
        appointment("b", at(20), GP),
        appointment("c", at(20), HOME_CARE, status=AppointmentStatus.CANCELLED),
    ]

    assert [r.id for r in apply_filter(records, None)] == ["a", "b"]
    assert [r.id for r in apply_filter(records, AppointmentFilter(include_cancelled=True))] == ["a", "b", "c"]
    assert [r.id for r in apply_filter(records, AppointmentFilter(sor_ids=[GP.sor or ""]))] == ["b"]
    by_kind = AppointmentFilter(organisation_kinds=[OrganisationKind.REGION])
    assert [r.id for r in apply_filter(records, by_kind)] == ["a"]


def test_the_range_defaults_to_the_next_ninety_days_and_rejects_backwards_or_huge_ranges():
    today = date(2026, 11, 21)

    first, last, window = window_of(None, None, today)
    assert (first, last) == (today, today + timedelta(days=90))
    assert window == DateWindow(today, today + timedelta(days=91))
    backwards = RANGE.refusals({"from": date(2026, 12, 1), "to": date(2026, 11, 1)}, today)
    assert [r.path for r in backwards] == [("to",)]
    huge = RANGE.refusals({"from": date(2010, 1, 1), "to": date(2026, 1, 1)}, today)
    assert [r.path for r in huge] == [("to",)]
    assert [r.path for r in RANGE.refusals({"from": date(2027, 6, 1), "to": None}, today)] == []
