"""The SOR register (Sundhedsvæsenets Organisationsregister): which units sit below an organisation.

A block on a treatment place "including sub-units" covers every unit below it in the SOR hierarchy.
The adapter asks for the blocked organisations and, with ``_revinclude:iterate``, every
organisation that is ``partOf`` them, transitively, in one FHIR R4 search, and answers each asked
SOR code with the set of its sub-units. Wire format: ``docs/sources/sor.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.payloads import SOR_SYSTEM, FhirModel

_MAX_DEPTH = 20


class _Identifier(FhirModel):
    system: str | None = None
    value: str = Field(min_length=1)


class _Reference(FhirModel):
    reference: str = Field(min_length=1)


class _Organization(FhirModel):
    resource_type: Literal["Organization"]
    id: str = Field(min_length=1)
    identifier: list[_Identifier] = Field(default_factory=list)
    part_of: _Reference | None = None

    @property
    def sor(self) -> str | None:
        return next((i.value for i in self.identifier if i.system == SOR_SYSTEM), None)


class _Entry(FhirModel):
    resource: dict[str, Any]


class _Bundle(FhirModel):
    resource_type: Literal["Bundle"]
    entry: list[_Entry] = Field(default_factory=list)


class SorSource:
    """Sub-units of organisations, from the SOR register."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def subunits_of(self, sors: Sequence[str]) -> dict[str, frozenset[str]]:
        """Each asked SOR code → every unit below it (not itself); unknown codes → empty set."""
        wanted = list(dict.fromkeys(s for s in sors if s))
        if not wanted:
            return {}
        if not all(s.isdigit() for s in wanted):
            raise ValueError("not a SOR code")
        payload = await self._client.get_json(
            "/fhir/Organization",
            {"identifier": f"{SOR_SYSTEM}|{','.join(wanted)}", "_revinclude:iterate": "Organization:partof"},
        )
        try:
            bundle = _Bundle.model_validate(payload)
            organisations = [
                _Organization.model_validate(e.resource)
                for e in bundle.entry
                if e.resource.get("resourceType") == "Organization"
            ]
        except ValidationError as exc:
            raise self._client.invalid("organisation bundle failed validation") from exc
        sor_of = {o.id: o.sor for o in organisations}
        children: dict[str, set[str]] = {}
        for organisation in organisations:
            parent = (
                sor_of.get(organisation.part_of.reference.removeprefix("Organization/"))
                if organisation.part_of
                else None
            )
            if parent is not None and organisation.sor is not None:
                children.setdefault(parent, set()).add(organisation.sor)
        return {sor: frozenset(_below(sor, children)) for sor in wanted}


def _below(sor: str, children: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    frontier = {sor}
    for _ in range(_MAX_DEPTH):
        frontier = {c for s in frontier for c in children.get(s, ())} - found - {sor}
        if not frontier:
            break
        found |= frontier
    return found
