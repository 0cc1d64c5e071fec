"""The patient's blocks (spærringer, "Min Spærring"): reading them, creating one and revoking one.

Category ``BLOCKS`` reads the blocks, ``BLOCKS_EDIT`` changes them; the consent gate decides both
before execution. A block is against a named health professional (by autorisations-ID), a treatment
place (by SOR code, optionally with its sub-units and narrowed to a period of data) or a period of
data from every place. The bounds on the input (forms, periods, which fields each kind takes) are
declared here (:mod:`resolvers.bounds`) and checked by the gateway before execution; a refusal that
needs the consent service's answer (no such block) is :class:`~resolvers.errors.InvalidArgument`
naming ``id``, never the value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import strawberry

from resolvers.bounds import DateRange, Refusal, constraint, described
from resolvers.context import Info, load, require, write_through
from resolvers.errors import InvalidArgument
from resolvers.formats import AUTHORIZATION_ID, BLOCK_ID, SOR_CODE
from resolvers.paging import Connection, Cursor, Key, page
from resolvers.plans import Period, newest_first
from resolvers.protection import ProtectedDetail, protected_field
from resolvers.vocabulary import graphql_enum
from sources.categories import DataCategory
from sources.errors import SourceRejected, SourceVersionConflict
from sources.models import BlockKind, BlockRecord, PeriodRecord
from sources.payloads import COPENHAGEN

PERIOD = DateRange(start="start", end="end")
"""A period of dates: ``end`` not before ``start``."""
PROFESSIONAL_ID = constraint(format=AUTHORIZATION_ID)
PLACE_SOR = constraint(format=SOR_CODE)
BLOCK_ID_BOUND = constraint(format=BLOCK_ID)
"""``revokeBlock(id:)``: a block's id as the consent service gives it (a FHIR resource id)."""
BLOCKS_CURSOR = Cursor("blocks", (int, str))
"""``Patient.blocks(after:)``: a cursor of the blocks (newest first by when they apply, then id)."""


def today() -> date:
    """Today's date in Denmark: the day validity periods are judged on."""
    return datetime.now(COPENHAGEN).date()


graphql_enum(
    BlockKind,
    name="BlockKind",
    description="What a block (spærring) is against.",
    values={
        BlockKind.PROFESSIONAL: (
            "A named health professional (sundhedsperson), by autorisations-ID: they see nothing shared."
        ),
        BlockKind.ORGANISATION: (
            "A treatment place (behandlingssted), by SOR code: its shared data is held back from professionals, "
            "optionally with its sub-units (underenheder) and only for a period of data."
        ),
        BlockKind.DATA_PERIOD: "Shared data from a period (data fra en tidsperiode), from every treatment place.",
    },
)


@strawberry.type(description="A block (spærring, negativt samtykke) the patient has set in Min Spærring.")
class Block:
    cpr: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="The block's id; pass it to `revokeBlock` to lift the block.")
    kind: BlockKind = strawberry.field(description="What the block is against.")
    authorization_id: str | None = protected_field(
        ProtectedDetail.PLACE,
        description="The blocked health professional's autorisations-ID (PROFESSIONAL blocks).",
    )
    organisation_sor_id: str | None = protected_field(
        ProtectedDetail.PLACE,
        description="The blocked treatment place's SOR-ID (behandlingssted; ORGANISATION blocks).",
    )
    include_subunits: bool = strawberry.field(
        description="Whether the block also covers the treatment place's sub-units (underenheder)."
    )
    data_period: Period | None = strawberry.field(
        description=(
            "The period of data blocked (data fra tidsperiode): the whole block for DATA_PERIOD, a narrowing "
            "for ORGANISATION; null when all data of the place is blocked."
        )
    )
    validity: Period = strawberry.field(
        description=(
            "When the block applies (gyldighedsperiode); an open start means from the beginning, "
            "an open end until it is revoked."
        )
    )
    in_force: bool = strawberry.field(description="Whether the block applies today (Danish time).")
    unmatchable: bool = strawberry.field(
        description=(
            "The consent service holds this block, but whom it is against cannot be read with certainty (an "
            "identifier that is not one, an unknown identifier system): the gateway applies it to every "
            "professional (or every place). Revoke it and set it again to fix it."
        )
    )

    @classmethod
    def from_record(cls, record: BlockRecord, on: date) -> Block:
        return cls(
            cpr=record.cpr,
            id=strawberry.ID(record.id),
            kind=record.kind,
            authorization_id=record.authorization_id,
            organisation_sor_id=record.organisation_sor,
            include_subunits=record.include_subunits,
            data_period=Period.from_record(record.data_period) if record.data_period else None,
            validity=Period.from_record(record.validity),
            in_force=record.validity.contains(on),
            unmatchable=record.unmatchable,
        )


@strawberry.input(
    description=f"A period of dates (periode), both ends inclusive; either end may be open (null): {PERIOD.text()}.",
    directives=[PERIOD],
)
class PeriodInput:
    start: date | None = strawberry.field(default=None, description="First date (startdato, fra og med).")
    end: date | None = strawberry.field(
        default=None, description="Last date (slutdato, til og med); not before `start`."
    )

    def to_record(self) -> PeriodRecord:
        """The period (its ends checked before execution: :data:`PERIOD`)."""
        return PeriodRecord(self.start, self.end)


@strawberry.input(
    description=(
        "A new block (spærring). PROFESSIONAL needs `authorizationId`; ORGANISATION needs `organisationSorId` "
        "and may set `includeSubunits` and narrow to a `dataPeriod`; DATA_PERIOD needs `dataPeriod`; no kind "
        "takes the fields of another. A `dataPeriod` needs both its start and its end; the `validity` may not "
        "have ended."
    )
)
class BlockInput:
    kind: BlockKind = strawberry.field(description="What the block is against.")
    authorization_id: str | None = strawberry.field(
        default=None,
        description=described("The professional's autorisations-ID", PROFESSIONAL_ID),
        directives=[PROFESSIONAL_ID],
    )
    organisation_sor_id: str | None = strawberry.field(
        default=None, description=described("The treatment place's SOR-ID", PLACE_SOR), directives=[PLACE_SOR]
    )
    include_subunits: bool = strawberry.field(
        default=False, description="Block the treatment place's sub-units (underenheder) too."
    )
    data_period: PeriodInput | None = strawberry.field(
        default=None, description="The period of data to block (data fra tidsperiode), with both ends."
    )
    validity: PeriodInput | None = strawberry.field(
        default=None,
        description=(
            "When the block applies (gyldighedsperiode): `start` default from now on, `end` default until revoked; "
            "the end may not have passed."
        ),
    )

    @classmethod
    def refusals(cls, values: Mapping[str, Any], today: date) -> Iterator[Refusal]:
        """The fields each kind of block takes (an input rule: :class:`~resolvers.bounds.InputRule`): a field of
        another kind is refused rather than silently ignored, and a kind's own field is required; a data
        period needs both ends; the validity may not have ended."""
        kind = values.get("kind")
        given = {name for name, value in values.items() if value is not None and value is not False}
        for name, kinds in _FIELDS_OF.items():
            if name in given and kind not in kinds:
                yield Refusal((name,), f"belongs to a block of kind {' or '.join(k.name for k in kinds)}")
        if isinstance(kind, BlockKind):
            for name in _NEEDED_BY[kind]:
                if name not in given:
                    yield Refusal((name,), f"is needed by a block of kind {kind.name}")
        period = values.get("dataPeriod")
        for end in ("start", "end"):
            if isinstance(period, Mapping) and period.get(end) is None:
                yield Refusal(("dataPeriod", end), "is needed: a blocked data period has both ends")
        validity = values.get("validity")
        ends = validity.get("end") if isinstance(validity, Mapping) else None
        if isinstance(ends, date) and ends < today:
            yield Refusal(("validity", "end"), "must not lie in the past: the validity (gyldighedsperiode) ended")

    def to_record(self, cpr: str) -> BlockRecord:
        """The block to store for patient ``cpr`` (its input checked before execution)."""
        kind = self.kind
        authorization_id = self.authorization_id or ""
        sor_id = self.organisation_sor_id or ""
        return BlockRecord(
            id="",
            cpr=cpr,
            kind=kind,
            validity=(self.validity or PeriodInput()).to_record(),
            authorization_id=AUTHORIZATION_ID.normal(authorization_id) if kind is BlockKind.PROFESSIONAL else None,
            organisation_sor=SOR_CODE.normal(sor_id) if kind is BlockKind.ORGANISATION else None,
            include_subunits=self.include_subunits,
            data_period=self.data_period.to_record() if self.data_period is not None else None,
        )


_FIELDS_OF = {
    "authorizationId": (BlockKind.PROFESSIONAL,),
    "organisationSorId": (BlockKind.ORGANISATION,),
    "includeSubunits": (BlockKind.ORGANISATION,),
    "dataPeriod": (BlockKind.ORGANISATION, BlockKind.DATA_PERIOD),
}
"""Which kinds of block take each of ``BlockInput``'s optional fields."""
_NEEDED_BY = {
    BlockKind.PROFESSIONAL: ("authorizationId",),
    BlockKind.ORGANISATION: ("organisationSorId",),
    BlockKind.DATA_PERIOD: ("dataPeriod",),
}
"""The fields each kind of block needs."""


async def patient_blocks(info: Info, cpr: str, first: int, after: str | None) -> Connection[Block]:
    """A page of the patient's blocks as the consent service holds them, newest first by when they apply,
    then by id (``Patient.blocks``)."""
    found = await load(info, cpr, DataCategory.BLOCKS, info.context.loaders.blocks)
    shown = page(sorted(found or [], key=_place), first, after, cursor=BLOCKS_CURSOR, key=_place)
    on = today()
    return Connection(nodes=[Block.from_record(r, on) for r in shown.items], page_info=shown.info, total=shown.total)


def _place(record: BlockRecord) -> Key:
    return newest_first(record.validity, record.id)


async def create_block(info: Info, cpr: str, block: BlockInput) -> Block:
    """Store a new block for ``cpr`` and return it as stored (``createBlock``)."""
    require(info, cpr, DataCategory.BLOCKS_EDIT)
    record = block.to_record(cpr)
    stored = await write_through(info, cpr, DataCategory.BLOCKS_EDIT, info.context.writers.create_block(record))
    info.context.loaders.blocks.clear(cpr)
    return Block.from_record(stored, today())


async def revoke_block(info: Info, cpr: str, block_id: str) -> Block:
    """Revoke one of ``cpr``'s blocks and return it as it was (``revokeBlock``).

    The id must be one of *this* patient's blocks, checked against a fresh read before anything is
    deleted, so nobody revokes another patient's block by guessing ids.
    """
    require(info, cpr, DataCategory.BLOCKS_EDIT)
    found = await info.context.loaders.blocks.get(cpr)
    block = next((b for b in found or [] if b.id == block_id), None)
    if block is None:
        raise InvalidArgument("id", "the patient has no block with this id")
    info.context.loaders.blocks.clear(cpr)
    try:
        await write_through(info, cpr, DataCategory.BLOCKS_EDIT, info.context.writers.revoke_block(cpr, block_id))
    except SourceRejected as exc:
        if isinstance(exc, SourceVersionConflict):
            raise
        raise InvalidArgument("id", "the block no longer exists; it may have been revoked meanwhile") from exc
    return Block.from_record(block, today())
