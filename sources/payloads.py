"""What every adapter validates upstream payloads with (pydantic v2).

Models ignore unknown fields, read camelCase names, and hide input values in validation errors, so a
chained ``ValidationError`` never carries a CPR number or a name. The FHIR datatypes built on them
(time of any precision, identifiers, references, periods) are in :mod:`sources.datatypes`.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from sources.identifiers import CPR_SYSTEM, SOR_SYSTEM

__all__ = ["COPENHAGEN", "CPR_SYSTEM", "SOR_SYSTEM", "FhirModel", "ShapeError", "StrictJsonModel", "member"]

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
"""Danish local time: the dates of appointments, blocks and windows are local dates."""


class FhirModel(BaseModel):
    """Base of the adapters' payload models."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, hide_input_in_errors=True, frozen=True)


class StrictJsonModel(FhirModel):
    """Base of plain-JSON payload models: no coercion (``"1"`` is not ``1``, ``1`` is not ``true``)."""

    model_config = ConfigDict(strict=True)


class ShapeError(Exception):
    """A payload that validated structurally but breaks the wire format (message holds no data)."""


E = TypeVar("E", bound=Enum)


def member(kind: type[E], value: object) -> E | None:
    """The member of enum ``kind`` whose value is ``value``, or ``None`` when it has none (never raises).

    Every conversion of an upstream value to an enum goes through here (a test walks ``sources/`` and
    ``resolvers/`` for others): a code a source sends that the gateway does not know is the caller's
    case to handle (an item left out and reported, a status shown as unknown), never an exception.
    """
    try:
        return kind(value)
    except (ValueError, TypeError):
        return None
