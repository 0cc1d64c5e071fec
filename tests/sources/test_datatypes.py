"""The shared FHIR datatypes: time of every precision and offset, periods, identifiers, references."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.datatypes import (
    Period,
    Precision,
    Reference,
    instant,
    local_date,
    local_midnight,
    parse_date_time,
    parse_instant,
    resolve,
)
from sources.identifiers import IdentifierKind, normalise, normalise_authorization_id, normalise_sor, system_kind
from sources.payloads import COPENHAGEN, ShapeError

instants = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC))
offsets = st.integers(-14 * 4, 14 * 4).map(lambda quarters: timezone(timedelta(minutes=15 * quarters)))
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))


@given(instants, offsets, st.booleans())
def test_an_instant_in_any_offset_is_that_instant_and_its_date_in_denmark(moment, offset, with_seconds):
    written = moment.astimezone(offset).isoformat(timespec="seconds" if with_seconds else "minutes")
    moment = moment.replace(second=moment.second if with_seconds else 0, microsecond=0)

    parsed = parse_date_time(written)

    assert parsed.precision is Precision.TIME
    assert parsed.instant == moment == parse_instant(written)
    assert parsed.day == parsed.days.start == parsed.days.end == moment.astimezone(COPENHAGEN).date()


@given(days)
def test_a_partial_date_is_the_range_of_days_it_may_denote(day):
    year = parse_date_time(f"{day.year:04d}")
    month = parse_date_time(f"{day.year:04d}-{day.month:02d}")
    full = parse_date_time(day.isoformat())

    assert (year.precision, month.precision, full.precision) == (Precision.YEAR, Precision.MONTH, Precision.DAY)
    assert (year.days.start, year.days.end) == (date(day.year, 1, 1), date(day.year, 12, 31))
    last = calendar.monthrange(day.year, day.month)[1]
    assert (month.days.start, month.days.end) == (date(day.year, day.month, 1), date(day.year, day.month, last))
    assert year.day is None and month.day is None and full.day == day
    assert year.days.contains(day) and month.days.contains(day) and full.days.contains(day)


@given(days, st.integers(0, 23), st.integers(0, 59))
def test_a_time_without_an_offset_is_danish_local_time(day, hour, minute):
    parsed = parse_date_time(f"{day.isoformat()}T{hour:02d}:{minute:02d}:00")

    assert parsed.day == day
    assert parsed.instant == datetime(day.year, day.month, day.day, hour, minute, tzinfo=COPENHAGEN).astimezone(UTC)
    with pytest.raises(ValueError, match="offset"):
        parse_instant(f"{day.isoformat()}T{hour:02d}:{minute:02d}:00")


@given(days, days)
def test_a_period_is_its_widest_reading(first, second):
    start, end = sorted((first, second))
    period = Period.model_validate({"start": str(start.year), "end": f"{end.year:04d}-{end.month:02d}"})

    assert period.days.start == date(start.year, 1, 1)
    assert period.days.end is not None and period.days.contains(end) and period.days.end.day >= 28


@pytest.mark.parametrize(
    "value",
    [20190601, "2019-13", "2019-02-30", "19-06-01", "2019-06-01T25:00:00Z", "2019-06-01T10:00:00+15:00", "", None],
)
def test_anything_else_is_refused_without_echoing_it(value):
    with pytest.raises(ValueError) as caught:
        parse_date_time(value)

    assert str(value) not in str(caught.value) or value in ("", None)


def test_the_issue_examples():
    assert parse_date_time("2018-12-31T23:30:00Z").day == date(2019, 1, 1)
    assert parse_date_time("2019-01-01T00:30:00+01:00").day == date(2019, 1, 1)
    assert Period.model_validate({"start": "2019", "end": "2020"}).days.end == date(2020, 12, 31)
    assert Period.model_validate({"end": "2025-06-30T23:00:00Z"}).days.end == date(2025, 7, 1)
    with pytest.raises(ValueError):
        Period.model_validate({"start": "2026-10-25T02:30:00+02:00", "end": "2026-10-25T01:15:00+01:00"})
    assert Period.model_validate({"start": "2026-10-25T02:30:00+02:00", "end": "2026-10-25T02:15:00+01:00"})


spaces = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0"])


@given(spaces, spaces, st.booleans())
def test_an_authorisation_id_in_any_spacing_and_case_is_one_id(before, after, lower):
    text = "cbdj6" if lower else "CBDJ6"

    assert normalise_authorization_id(f"{before}{text}{after}") == "CBDJ6"
    assert normalise(IdentifierKind.AUTHORIZATION_ID, f"{before}CB DJ6{after}") is None


@given(spaces, spaces, st.from_regex(r"[1-9][0-9]{4,17}", fullmatch=True), st.integers(0, 3))
def test_a_sor_code_in_any_spacing_and_zero_padding_is_one_code(before, after, sor, zeros):
    assert normalise_sor(f"{before}{'0' * zeros}{sor}{after}") == sor
    assert normalise_sor(f"{sor}x") is None


@given(spaces, spaces, st.booleans())
def test_identifier_systems_are_known_in_any_spacing_and_case_of_their_scheme(before, after, upper):
    urn = "URN:OID:1.2.208.176.1.1" if upper else "urn:oid:1.2.208.176.1.1"

    assert system_kind(f"{before}{urn}{after}") is IdentifierKind.SOR
    assert system_kind(f"{before}https://autregweb.sst.dk/{after}") is IdentifierKind.AUTHORIZATION_ID
    assert system_kind("urn:oid:1.2.208.176.1.99") is None


def test_references_resolve_to_contained_and_included_resources_only_when_they_agree():
    patient = {"resourceType": "Patient", "id": "p1"}
    related = {"resourceType": "RelatedPerson", "id": "r1"}

    assert resolve(Reference(reference="#p1"), [patient], {}) == ("Patient", patient)
    assert resolve(Reference(reference="Patient/abc"), [], {"Patient/abc": patient}) == ("Patient", patient)
    assert resolve(Reference(reference="http://h/fhir/Patient/abc/_history/2"), [], {}) == ("Patient", None)
    assert resolve(Reference(identifier=None), [], {}) == (None, None)
    with pytest.raises(ShapeError):
        resolve(Reference(reference="#r1", type="Patient"), [related], {})


EDGE_TIMES = (
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 1, 2, 23, 59, 59))
    | st.datetimes(min_value=datetime(9999, 12, 30), max_value=datetime(9999, 12, 31, 23, 59, 59))
).map(lambda moment: moment.replace(microsecond=0))
"""Wall-clock times within two days of the ends of Python's calendar (years 1 and 9999)."""
EDGE_DAYS = st.sampled_from([date(1, 1, 1), date(1, 1, 2), date(9999, 12, 30), date(9999, 12, 31)])
OFFSET_MINUTES = st.integers(-14 * 60, 14 * 60)


def written(naive: datetime, offset_minutes: int | None) -> str:
    """``naive`` as a FHIR dateTime with the offset (``None``: ``Z``); years always four digits."""
    text = f"{naive.year:04d}-{naive.month:02d}-{naive.day:02d}T{naive:%H:%M:%S}"
    if offset_minutes is None:
        return text + "Z"
    sign, minutes = ("-" if offset_minutes < 0 else "+"), abs(offset_minutes)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def has_a_danish_date(naive: datetime, offset_minutes: int) -> bool:
    """The oracle, by exact arithmetic on durations (floats round a microsecond away at these magnitudes):
    the instant and its Copenhagen wall time both lie in years 1..9999."""
    top = datetime.max - datetime.min
    utc = (naive - datetime.min) - timedelta(minutes=offset_minutes)
    era = datetime(2, 1, 1) if naive.year < 5000 else datetime(9999, 12, 1)
    offset = COPENHAGEN.utcoffset(era)
    assert offset is not None
    danish = utc + offset
    return timedelta(0) <= utc <= top and timedelta(0) <= danish <= top


@given(EDGE_TIMES, st.none() | OFFSET_MINUTES)
def test_an_instant_near_the_calendars_ends_is_kept_exactly_when_it_has_a_date_in_denmark(naive, offset_minutes):
    text = written(naive, offset_minutes)

    if has_a_danish_date(naive, offset_minutes or 0):
        moment = parse_instant(text)
        assert moment.tzinfo is UTC and instant(moment) == moment
        assert local_date(moment) == moment.astimezone(COPENHAGEN).date()
        assert parse_date_time(text).days.start == local_date(moment)
    else:
        with pytest.raises(ValueError, match="out of range"):
            parse_instant(text)
        with pytest.raises(ValueError, match="out of range"):
            parse_date_time(text)


@given(EDGE_TIMES, OFFSET_MINUTES)
def test_an_aware_datetime_near_the_calendars_ends_is_an_instant_only_when_it_has_a_date_in_denmark(
    naive, offset_minutes
):
    aware = naive.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))

    if has_a_danish_date(naive, offset_minutes):
        assert instant(aware) == aware and local_date(instant(aware)) is not None
    else:
        with pytest.raises(ValueError, match="out of range"):
            instant(aware)


@given(EDGE_DAYS)
def test_local_midnight_of_a_day_at_the_calendars_ends_exists_or_is_refused(day):
    if day == date(1, 1, 1):  # 00:00 local mean time in Copenhagen (+00:50:20) is still year 0 in UTC
        with pytest.raises(ValueError, match="out of range"):
            local_midnight(day)
    else:
        midnight = local_midnight(day)
        assert midnight.tzinfo is UTC and local_date(midnight) == day
