"""The patient's blocks (spærringer, "Min Spærring"): reading them, creating one and revoking one.

Category ``BLOCKS`` reads the blocks, ``BLOCKS_EDIT`` changes them; the consent gate decides both
before execution. A block is against a named health professional (by autorisations-ID), a treatment
place (by SOR code, optionally with its sub-units and narrowed to a period of data) or a period of
data from every place. Input is checked here, before anything is sent; a failure is
:class:`~resolvers.errors.InvalidArgument` naming the argument (``block.<field>`` or ``id``), never
the value.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import strawberry

from resolvers.context import Info, load, require, write_through
from resolvers.errors import InvalidArgument, check_date
from resolvers.paging import Connection, Key, page
from resolvers.plans import Period, newest_first
from resolvers.protection import ProtectedDetail, protected_field
from resolvers.vocabulary import graphql_enum
from sources.categories import DataCategory
from sources.errors import SourceRejected, SourceVersionConflict
from sources.identifiers import normalise_authorization_id
from sources.models import BlockKind, BlockRecord, PeriodRecord
from sources.payloads import COPENHAGEN

SOR_CODE = re.compile(r"[0-9]{11,18}")
"""A SOR ID: digits, at least 11 (``378631000016009``)."""
BLOCK_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""A block's id as the consent service gives it (a FHIR resource id)."""


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


@strawberry.input(description="A period of dates (periode), both ends inclusive; either end may be open (null).")
class PeriodInput:
    start: date | None = strawberry.field(default=None, description="First date (startdato, fra og med).")
    end: date | None = strawberry.field(
        default=None, description="Last date (slutdato, til og med); not before `start`."
    )

    def to_record(self, argument: str) -> PeriodRecord:
        """The period; :class:`InvalidArgument` naming ``argument``'s end when a date is out of range or it ends
        before it starts."""
        check_date(self.start, f"{argument}.start")
        check_date(self.end, f"{argument}.end")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidArgument(f"{argument}.end", "the period ends before it starts")
        return PeriodRecord(self.start, self.end)


@strawberry.input(
    description=(
        "A new block (spærring). PROFESSIONAL needs `authorizationId`; ORGANISATION needs `organisationSorId` "
        "and may set `includeSubunits` and narrow to a `dataPeriod`; DATA_PERIOD needs `dataPeriod`. A "
        "`dataPeriod` needs both its start and its end."
    )
)
class BlockInput:
    kind: BlockKind = strawberry.field(description="What the block is against.")
    authorization_id: str | None = strawberry.field(
        default=None, description="The professional's autorisations-ID: five consonants and digits, e.g. `CBDJ6`."
    )
    organisation_sor_id: str | None = strawberry.field(
        default=None, description="The treatment place's SOR-ID (digits, at least 11)."
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

    def to_record(self, cpr: str, on: date) -> BlockRecord:
        """The block to store for patient ``cpr``; raises :class:`InvalidArgument` for unusable input."""
        kind = self.kind
        self._check_fields_fit(kind)
        validity = (self.validity or PeriodInput()).to_record("block.validity")
        if validity.end is not None and validity.end < on:
            raise InvalidArgument("block.validity.end", "the validity period (gyldighedsperiode) has already ended")
        data_period = None
        if self.data_period is not None:
            data_period = self.data_period.to_record("block.dataPeriod")
            for end, argument in ((data_period.start, "start"), (data_period.end, "end")):
                if end is None:
                    raise InvalidArgument(f"block.dataPeriod.{argument}", "a blocked data period needs both ends")
        return BlockRecord(
            id="",
            cpr=cpr,
            kind=kind,
            validity=validity,
            authorization_id=_authorization_id(self.authorization_id) if kind is BlockKind.PROFESSIONAL else None,
            organisation_sor=_sor(self.organisation_sor_id) if kind is BlockKind.ORGANISATION else None,
            include_subunits=self.include_subunits,
            data_period=data_period,
        )

    def _check_fields_fit(self, kind: BlockKind) -> None:
        """Refuse fields that belong to another kind of block, rather than silently ignore them."""
        if kind is not BlockKind.PROFESSIONAL and self.authorization_id is not None:
            raise InvalidArgument("block.authorizationId", "only a PROFESSIONAL block names a professional")
        if kind is not BlockKind.ORGANISATION and self.organisation_sor_id is not None:
            raise InvalidArgument("block.organisationSorId", "only an ORGANISATION block names a treatment place")
        if kind is not BlockKind.ORGANISATION and self.include_subunits:
            raise InvalidArgument("block.includeSubunits", "only an ORGANISATION block has sub-units (underenheder)")
        if kind is BlockKind.PROFESSIONAL and self.data_period is not None:
            raise InvalidArgument("block.dataPeriod", "a PROFESSIONAL block covers all data; it takes no data period")
        if kind is BlockKind.DATA_PERIOD and self.data_period is None:
            raise InvalidArgument("block.dataPeriod", "a DATA_PERIOD block needs the period of data to block")


def _authorization_id(value: str | None) -> str:
    text = normalise_authorization_id(value)
    if text is None:
        raise InvalidArgument(
            "block.authorizationId", "an autorisations-ID is five characters: consonants and digits, such as CBDJ6"
        )
    return text


def _sor(value: str | None) -> str:
    text = (value or "").strip()
    if not SOR_CODE.fullmatch(text):
        raise InvalidArgument("block.organisationSorId", "a SOR-ID is at least 11 digits")
    return text


async def patient_blocks(info: Info, cpr: str, first: int, after: str | None) -> Connection[Block]:
    """A page of the patient's blocks as the consent service holds them, newest first by when they apply,
    then by id (``Patient.blocks``)."""
    found = await load(info, cpr, DataCategory.BLOCKS, info.context.loaders.blocks)
    shown = page(sorted(found or [], key=_place), first, after, tag="blocks", key=_place)
    on = today()
    return Connection(nodes=[Block.from_record(r, on) for r in shown.items], page_info=shown.info, total=shown.total)


def _place(record: BlockRecord) -> Key:
    return newest_first(record.validity, record.id)


async def create_block(info: Info, cpr: str, block: BlockInput) -> Block:
    """Store a new block for ``cpr`` and return it as stored (``createBlock``)."""
    require(info, cpr, DataCategory.BLOCKS_EDIT)
    on = today()
    record = block.to_record(cpr, on)
    stored = await write_through(info, cpr, DataCategory.BLOCKS_EDIT, info.context.writers.create_block(record))
    info.context.loaders.blocks.clear(cpr)
    return Block.from_record(stored, on)


async def revoke_block(info: Info, cpr: str, block_id: str) -> Block:
    """Revoke one of ``cpr``'s blocks and return it as it was (``revokeBlock``).

    The id must be one of *this* patient's blocks, checked against a fresh read before anything is
    deleted, so nobody revokes another patient's block by guessing ids.
    """
    require(info, cpr, DataCategory.BLOCKS_EDIT)
    if not BLOCK_ID.fullmatch(block_id):
        raise InvalidArgument("id", "not a block id")
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
