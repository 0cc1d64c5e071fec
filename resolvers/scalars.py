"""Custom scalars."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from sources.identifiers import is_cpr


def _parse_cpr(value: object) -> str:
    if not isinstance(value, str) or not is_cpr(value):
        raise ValueError("a CPR number is 10 digits, the first six a valid date (DDMMYY), without hyphen")
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


def _parse_date(value: object) -> date:
    """RFC 3339 ``full-date`` only: Python's ``date.fromisoformat`` also takes ``19010101``, week dates
    and other ISO 8601 forms, which would make a typo a valid date."""
    if not isinstance(value, str) or not _FULL_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return date.fromisoformat(value)


def _parse_date_time(value: object) -> datetime:
    """RFC 3339 ``date-time`` with its offset (``Z`` or ``±hh:mm``): a time without one is ambiguous."""
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("a date and time is written YYYY-MM-DDThh:mm:ss with Z or an offset such as +01:00")
    return datetime.fromisoformat(value)


DATE_SCALAR = strawberry.scalar(
    name="Date",
    description="A calendar date, RFC 3339 `full-date` (`2026-11-30`); a date of Danish time where it dates an event.",
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
    serialize=date.isoformat,
    parse_value=_parse_date,
)

DATE_TIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant, RFC 3339 `date-time` with its offset (`2026-11-30T09:30:00+01:00`); shown in Danish time."
    ),
    specified_by_url="https://www.rfc-editor.org/rfc/rfc3339#section-5.6",
    serialize=datetime.isoformat,
    parse_value=_parse_date_time,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {CPR: CPR_SCALAR, date: DATE_SCALAR, datetime: DATE_TIME_SCALAR}
"""Every custom scalar of the schema (``StrawberryConfig.scalar_map``)."""
