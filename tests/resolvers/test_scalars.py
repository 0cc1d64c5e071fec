"""The Date and DateTime scalars take RFC 3339 text only, not every form Python's ``fromisoformat`` reads."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.errors import EARLIEST_DATE, LATEST_DATE
from resolvers.scalars import DATE_SCALAR, DATE_TIME_SCALAR

RFC3339_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(value: object) -> object:
    assert DATE_SCALAR.parse_value is not None
    return DATE_SCALAR.parse_value(value)


def parse_date_time(value: object) -> object:
    assert DATE_TIME_SCALAR.parse_value is not None
    return DATE_TIME_SCALAR.parse_value(value)


@given(st.dates(EARLIEST_DATE, LATEST_DATE))
def test_every_full_date_reads_as_itself(day: date) -> None:
    assert parse_date(day.isoformat()) == day


@given(st.dates(max_value=EARLIEST_DATE - timedelta(days=1)) | st.dates(min_value=LATEST_DATE + timedelta(days=1)))
def test_a_date_outside_1900_to_2199_is_refused(day: date) -> None:
    with pytest.raises(ValueError, match="1900-01-01 to 2199-12-31"):
        parse_date(day.isoformat())


@pytest.mark.parametrize(
    "text", ["19010101", "1901010100", "2026-W48-1", "2026-334", "2026-11-30T00:00", " 2026-11-30"]
)
def test_other_iso_forms_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date(text)


@given(st.text(max_size=12))
def test_a_date_is_read_only_from_its_rfc3339_form(text: str) -> None:
    try:
        parsed = parse_date(text)
    except ValueError:
        return
    assert RFC3339_DATE.fullmatch(text)
    assert isinstance(parsed, date)
    assert parsed.isoformat() == text


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_an_instant_with_its_offset_is_the_same_instant(moment: datetime, minutes: int) -> None:
    aware = moment.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=minutes)))
    parsed = parse_date_time(aware.isoformat())
    assert isinstance(parsed, datetime)
    assert parsed == aware
    assert parse_date_time(aware.astimezone(UTC).isoformat().replace("+00:00", "Z")) == aware


@pytest.mark.parametrize("text", ["2026-11-30T09:30:00", "2026-11-30 09:30:00+01:00", "2026-11-30", "20261130T093000Z"])
def test_an_instant_without_offset_or_in_another_form_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_date_time(text)
