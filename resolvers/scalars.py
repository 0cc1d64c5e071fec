"""Custom scalars."""

from __future__ import annotations

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

SCALAR_MAP: dict[object, ScalarDefinition] = {CPR: CPR_SCALAR}
"""Every custom scalar of the schema (``StrawberryConfig.scalar_map``)."""
