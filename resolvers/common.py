"""GraphQL types shared by the appointment and plan sections: organisations, codes, source status."""

from __future__ import annotations

from enum import Enum
from typing import assert_never

import strawberry

from resolvers.protection import ProtectedDetail, Redactable, protects
from resolvers.sectors import NO_SECTORS, Sectors, may_show, region_unit
from resolvers.vocabulary import graphql_enum
from sources.clinical import CodingRecord, OrganisationKind, OrganisationRef
from sources.errors import FailureKind, SourceError

graphql_enum(
    OrganisationKind,
    name="OrganisationKind",
    description="The sector of an organisation (sektor).",
    values={
        OrganisationKind.REGION: "A region's hospital (region, sygehus).",
        OrganisationKind.MUNICIPALITY: "Municipal health and care (kommune: hjemmepleje, træning).",
        OrganisationKind.GP: "General practice (almen praksis, egen læge).",
    },
)


@strawberry.type(
    description=(
        "An organisation or unit, by its SOR-ID (Sundhedsvæsenets Organisationsregister). For a patient with "
        "name and address protection, a caller who gets placeholders sees a general practice, a municipality's "
        "unit or one of unknown sector as `ADRESSEBESKYTTET` without SOR-ID: it would tell where the patient "
        "lives. A region's units (hospitals) are shown: by the SOR register's word, never by the source's label; "
        "`kind` is then the register's sector."
    ),
    directives=[protects(ProtectedDetail.PLACE, kept=("kind",))],
)
class Organisation(Redactable):
    sor_id: str | None = strawberry.field(
        description="The SOR-ID (Sundhedsvæsenets Organisationsregister), when the source gives one."
    )
    name: str = strawberry.field(description="The organisation's name (navn).")
    kind: OrganisationKind | None = strawberry.field(description="The sector, when known.")

    def places(self) -> frozenset[str]:
        """Its own SOR code, unless its label already hides it."""
        return frozenset({self.sor_id}) if self.sor_id is not None and may_show(self.kind) else frozenset()

    def reveals(self, sectors: Sectors = NO_SECTORS) -> bool:
        """A general practice or a municipality serves where the patient lives; a region's hospital does not
        tell. Only the SOR register says which it is: a unit it does not know, or whose sector disagrees with
        the source's label, is taken to tell (fail closed)."""
        return not region_unit(self.sor_id, self.kind, sectors)

    def redacted(self, sectors: Sectors = NO_SECTORS) -> Organisation:
        """The placeholder form; ``kind`` is the register's sector where it knows one."""
        clone = super().redacted(sectors)
        registered = sectors.get(self.sor_id) if self.sor_id is not None else None
        if clone is not self and registered is not None:
            clone.kind = registered
        return clone

    @classmethod
    def from_record(cls, record: OrganisationRef) -> Organisation:
        kind = record.kind if record.kind is not None else None
        return cls(sor_id=record.sor, name=record.name, kind=kind)


@strawberry.type(description="A code from a code system (kode), with its display text (Danish where given).")
class Coding:
    system: str = strawberry.field(description="The code system's URI or OID (kodesystem).")
    code: str = strawberry.field(description="The code (kode).")
    display: str | None = strawberry.field(description="The display text (betegnelse).")

    @classmethod
    def from_record(cls, record: CodingRecord | None) -> Coding | None:
        if record is None:
            return None
        return cls(system=record.system, code=record.code, display=record.display)


@strawberry.enum(description="How a source answered this request.")
class SourceState(Enum):
    OK = strawberry.enum_value("OK", description="Answered; its items are included.")
    UNAVAILABLE = strawberry.enum_value("UNAVAILABLE", description="Down or refused; its items are missing.")
    TIMEOUT = strawberry.enum_value("TIMEOUT", description="Did not answer in time; its items are missing.")
    INVALID_RESPONSE = strawberry.enum_value(
        "INVALID_RESPONSE", description="Answered with data the gateway could not accept (all or some items missing)."
    )
    INCOMPLETE = strawberry.enum_value(
        "INCOMPLETE",
        description="Answered in part (it reported an error in its answer, or paged beyond the gateway's budget).",
    )


@strawberry.type(description="One source (endpoint) asked for a list, and how it answered.")
class SourceStatus:
    source: str = strawberry.field(description="The endpoint's configured name, as in errors' `source`.")
    state: SourceState = strawberry.field(description="How it answered.")


def source_statuses(asked: list[str], errors: list[SourceError]) -> list[SourceStatus]:
    """The status of every endpoint asked, from the errors of those that failed (the gravest one names it)."""
    failed: dict[str, SourceState] = {}
    for error in errors:
        state = _state(error)
        if _GRAVITY.index(state) > _GRAVITY.index(failed.get(error.source, SourceState.OK)):
            failed[error.source] = state
    return [SourceStatus(source=name, state=failed.get(name, SourceState.OK)) for name in asked]


_GRAVITY = (
    SourceState.OK,
    SourceState.INCOMPLETE,
    SourceState.INVALID_RESPONSE,
    SourceState.TIMEOUT,
    SourceState.UNAVAILABLE,
)
"""States from least to most grave: an endpoint that dropped an item and was also cut short is invalid."""


def _state(error: SourceError) -> SourceState:
    kind = error.kind
    match kind:
        case FailureKind.TIMEOUT:
            return SourceState.TIMEOUT
        case FailureKind.INVALID_RESPONSE:
            return SourceState.INVALID_RESPONSE
        case FailureKind.INCOMPLETE:
            return SourceState.INCOMPLETE
        case FailureKind.UNAVAILABLE | FailureKind.REJECTED | FailureKind.VERSION_CONFLICT:
            return SourceState.UNAVAILABLE
        case _:
            assert_never(kind)
