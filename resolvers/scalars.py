"""Custom scalars: CPR numbers, and dates whose input is range-checked wherever they are taken."""

from __future__ import annotations

from datetime import date
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from resolvers.errors import EARLIEST_DATE, LATEST_DATE
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


def parse_date(value: object) -> date:
    """A date argument or input field: ISO 8601 text of a date from 1900-01-01 to 2199-12-31.

    Checked here, in the scalar, so every date the schema takes is range-checked, whichever argument or
    input field it is (no date arithmetic on it can overflow: ADR 0009). Raises ``ValueError`` without
    the value.
    """
    message = f"a date is ISO 8601 (YYYY-MM-DD) from {EARLIEST_DATE} to {LATEST_DATE}"
    if not isinstance(value, str):
        raise ValueError(message)
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(message) from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise ValueError(message)
    return parsed


DATE_SCALAR = strawberry.scalar(
    name="Date",
    description=(
        "A calendar date, ISO 8601 (`2026-05-04`). Taken as an argument or input field, it must lie in 1900-01-01 "
        "to 2199-12-31 (else BAD_USER_INPUT naming the argument); dates the sources hold are given as they are."
    ),
    serialize=date.isoformat,
    parse_value=parse_date,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {CPR: CPR_SCALAR, date: DATE_SCALAR}
"""Every custom scalar of the schema (``StrawberryConfig.scalar_map``)."""
