"""What every adapter validates upstream payloads with (pydantic v2).

Models ignore unknown fields, read camelCase names, and hide input values in validation errors, so a
chained ``ValidationError`` never carries a CPR number or a name.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
"""The CPR number's identifier system (dk-core)."""
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
"""The SOR code's identifier system (dk-core)."""
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
"""Danish local time: the dates of appointments, blocks and windows are local dates."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T|$)")


def date_part(value: object) -> object:
    """FHIR ``date``/``dateTime`` → its date part (``2025-08-01T10:00:00+02:00`` → ``2025-08-01``).

    Anything else fails, including numbers, which pydantic would otherwise read as timestamps.
    """
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("expected a FHIR date")
    return value[:10]


FhirDate = Annotated[date, BeforeValidator(date_part)]


class FhirModel(BaseModel):
    """Base of the adapters' payload models."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, hide_input_in_errors=True, frozen=True)


class StrictJsonModel(FhirModel):
    """Base of plain-JSON payload models: no coercion (``"1"`` is not ``1``, ``1`` is not ``true``)."""

    model_config = ConfigDict(strict=True)


class ShapeError(Exception):
    """A payload that validated structurally but breaks the wire format (message holds no data)."""
