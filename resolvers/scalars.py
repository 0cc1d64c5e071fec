"""Custom scalars: CPR numbers, and dates whose input is range-checked wherever they are taken."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from resolvers.errors import EARLIEST_DATE, LATEST_DATE, ValueRefused
from sources.identifiers import is_cpr


def _parse_cpr(value: object) -> str:
    if not isinstance(value, str) or not is_cpr(value):
        raise ValueRefused("a CPR number is 10 digits, the first six a valid date (DDMMYY), without hyphen")
    return value


CPR = NewType("CPR", str)
"""A CPR number in resolver signatures; the schema maps it to :data:`CPR_SCALAR`."""

CPR_SCALAR = strawberry.scalar(
    name="CPR",
    description=(
        "A Danish personal identification number (CPR-nummer): 10 digits, DDMMYYSSSS, no hyphen. "
        "Validated by format and date only, never by modulus 11 (numbers without it are issued since 2007)."
    ),
    specified_by_url="https://www.cpr.dk/cpr-systemet/opbygning-af-cpr-nummeret",
    serialize=str,
    parse_value=_parse_cpr,
)

_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_OUTSIDE = f"lies in {EARLIEST_DATE} to {LATEST_DATE}"


def parse_date(value: object) -> date:
    """A date argument or input field: RFC 3339 ``full-date`` from 1900-01-01 to 2199-12-31.

    Only the RFC 3339 form: Python's ``date.fromisoformat`` also takes ``19010101``, week dates and
    other ISO 8601 forms, which would make a typo a valid date. The range is checked here, in the
    scalar, so every date the schema takes is checked, whichever argument or input field it is (no date
    arithmetic on it can overflow: ADR 0009). Raises :class:`ValueRefused` without the value.
    """
    if not isinstance(value, str) or not _FULL_DATE.fullmatch(value):
        raise ValueRefused("a date is written YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueRefused("a date is written YYYY-MM-DD and names a day of the calendar") from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValueRefused(f"a date {_OUTSIDE}")
    return parsed


def parse_date_time(value: object) -> datetime:
    """An instant argument: RFC 3339 ``date-time`` with its offset (``Z`` or ``±hh:mm``; a time without
    one is ambiguous), its date in 1900-01-01 to 2199-12-31 as for :func:`parse_date`."""
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueRefused("a date and time is written YYYY-MM-DDThh:mm:ss with Z or an offset such as +01:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueRefused("a date and time names a day of the calendar and a time of day") from None
    if not EARLIEST_DATE <= parsed.date() <= LATEST_DATE:
        raise ValueRefused(f"a date and time {_OUTSIDE}")
    return parsed


DATE_SCALAR = strawberry.scalar(
    name="Date",
    description=(
        "A calendar date, RFC 3339 `full-date` (`2026-11-30`); a date of Danish time where it dates an event. "
        "Taken as an argument or input field, it must lie in 1900-01-01 to 2199-12-31 (else BAD_USER_INPUT "
        "naming the argument); dates the sources hold are given as they are."
    ),
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
    serialize=date.isoformat,
    parse_value=parse_date,
)

DATE_TIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant, RFC 3339 `date-time` with its offset (`2026-11-30T09:30:00+01:00`); shown in Danish time. "
        "Taken as an argument, its date must lie in 1900-01-01 to 2199-12-31."
    ),
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
    serialize=datetime.isoformat,
    parse_value=parse_date_time,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {CPR: CPR_SCALAR, date: DATE_SCALAR, datetime: DATE_TIME_SCALAR}
"""Every custom scalar of the schema (``StrawberryConfig.scalar_map``)."""
