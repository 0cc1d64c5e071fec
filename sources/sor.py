"""The SOR register (Sundhedsvæsenets Organisationsregister): units below an organisation, and its sector.

A block on a treatment place "including sub-units" covers every unit below it in the SOR hierarchy.
The adapter asks for the blocked organisations and, with ``_revinclude:iterate``, every
organisation that is ``partOf`` them, transitively, in one FHIR R4 search, and answers each asked
SOR code with the set of its sub-units. The sub-units are an access-decision input, so the answer is
all or nothing: one organisation that cannot be read, more pages than the budget, or an error the
register reports in its answer makes the whole answer fail (the decision then fails closed), since a
sub-unit left out would be a sub-unit left unblocked.

Name and address protection asks the register which sector an organisation belongs to
(:meth:`SorSource.sectors_of`): a place shown for a protected patient must be a region's unit by
the register's word, never by the item's own label or its endpoint's configured kind (ADR 0012).
The sector is read from ``Organization.type`` in :data:`SECTOR_SYSTEM`; an organisation without
exactly one sector there, or one the register does not know, has no known sector. Every SOR code
asked and read is in its normal form (:func:`~sources.identifiers.normalise_sor`: ``0378…`` is
``378…``). Wire format: ``docs/sources/sor.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.clinical import OrganisationKind
from sources.datatypes import CodeableConcept, Identifier, Reference, identifier_of
from sources.fhir_search import search_resources
from sources.identifiers import IdentifierKind, normalise_sor
from sources.payloads import SOR_SYSTEM, FhirModel, member
from sources.reference_cache import ReferenceCache

_MAX_DEPTH = 20

SECTOR_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/sor-sector"
"""The sector of a SOR organisation, in ``Organization.type``: ``region``, ``municipality`` or ``gp`` (a
facade over SOR maps the register's owner type, ejerforhold, onto it; ``docs/sources/sor.md``)."""


class _Organization(FhirModel):
    resource_type: Literal["Organization"]
    id: str = Field(min_length=1)
    identifier: list[Identifier] = Field(default_factory=list)
    part_of: Reference | None = None
    type: list[CodeableConcept] = Field(default_factory=list)

    @property
    def sor(self) -> str | None:
        return identifier_of(self.identifier, IdentifierKind.SOR)

    @property
    def sector(self) -> OrganisationKind | None:
        """The one sector its type names in :data:`SECTOR_SYSTEM`; ``None`` when none, or several disagree."""
        said = {member(OrganisationKind, c.code) for t in self.type for c in t.coding if c.system == SECTOR_SYSTEM}
        return said.pop() if len(said) == 1 else None


def _wanted(sors: Sequence[str]) -> list[str]:
    """The asked SOR codes in their normal form, each once; ``ValueError`` for one that is not a SOR code."""
    wanted = [normalise_sor(s) for s in sors if s]
    if not all(wanted):
        raise ValueError("not a SOR code")
    return list(dict.fromkeys(s for s in wanted if s))


class SorSource:
    """Sub-units of organisations, from the SOR register.

    The hierarchy is reference data (the organisation tree, the same for every caller and patient):
    with a ``cache`` (ADR 0014) a complete answer per SOR code is kept for its short TTL, so a change
    in the tree is seen within that time. A failed answer is never kept.
    """

    def __init__(self, client: SourceClient, cache: ReferenceCache[frozenset[str]] | None = None) -> None:
        self._client = client
        self._cache = cache if cache is not None else ReferenceCache[frozenset[str]](0, 0)
        self._sectors: ReferenceCache[OrganisationKind | None] = self._cache.like()

    async def subunits_of(self, sors: Sequence[str]) -> dict[str, frozenset[str]]:
        """Each asked SOR code (normal form) → every unit below it (not itself); unknown codes → empty set."""
        wanted = _wanted(sors)
        if not wanted:
            return {}
        kept, missing = self._cache.cached(wanted)
        fetched = await self._fetch(missing) if missing else {}
        for sor, units in fetched.items():
            self._cache.keep(sor, units)
        return {sor: kept[sor] if sor in kept else fetched[sor] for sor in wanted}

    async def sectors_of(self, sors: Sequence[str]) -> dict[str, OrganisationKind | None]:
        """Each asked SOR code (normal form) → the sector the register gives it; ``None`` when it gives none.

        One search for every code not kept from an earlier request (a complete answer is kept as the
        sub-units are, ADR 0014). All or nothing: raises the source's error, and ``ValueError`` for a
        code that is not a SOR code.
        """
        wanted = _wanted(sors)
        if not wanted:
            return {}
        kept, missing = self._sectors.cached(wanted)
        if missing:
            found = {o.sor: o.sector for o in await self._organisations(missing, []) if o.sor is not None}
            for sor in missing:
                kept[sor] = found.get(sor)
                self._sectors.keep(sor, kept[sor])
        return {sor: kept[sor] for sor in wanted}

    async def _fetch(self, wanted: list[str]) -> dict[str, frozenset[str]]:
        """The sub-units of each SOR code, all or nothing (raises the source's error)."""
        organisations = await self._organisations(wanted, [("_revinclude:iterate", "Organization:partof")])
        sor_of = {o.id: o.sor for o in organisations}
        children: dict[str, set[str]] = {}
        for organisation in organisations:
            target = organisation.part_of.literal if organisation.part_of else None
            parent = sor_of.get(target[1]) if target is not None and target[0] == "Organization" else None
            if parent is not None and organisation.sor is not None:
                children.setdefault(parent, set()).add(organisation.sor)
        return {sor: frozenset(_below(sor, children)) for sor in wanted}

    async def _organisations(self, wanted: list[str], more: list[tuple[str, str]]) -> list[_Organization]:
        """Every organisation a search by SOR code answers, all or nothing (raises the source's error)."""
        found = await search_resources(
            self._client, "/fhir/Organization", [("identifier", f"{SOR_SYSTEM}|{','.join(wanted)}"), *more]
        )
        if found.problems:
            raise found.problems[0]
        if found.unreadable:
            raise self._client.invalid("organisation bundle holds an entry that is not a resource")
        try:
            organisations = [
                _Organization.model_validate(r)
                for r in [*found.resources, *found.included.values()]
                if r.get("resourceType") == "Organization"
            ]
        except ValidationError as exc:
            raise self._client.invalid("organisation bundle failed validation") from exc
        if any(o.sor is None and any(i.kind is IdentifierKind.SOR for i in o.identifier) for o in organisations):
            raise self._client.invalid("an organisation's SOR code cannot be read")
        return organisations


def _below(sor: str, children: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    frontier = {sor}
    for _ in range(_MAX_DEPTH):
        frontier = {c for s in frontier for c in children.get(s, ())} - found - {sor}
        if not frontier:
            break
        found |= frontier
    return found
