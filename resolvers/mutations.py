"""Writes: the Fælles Stamkort (category ``MASTER_CARD_EDIT``) and blocks (``BLOCKS_EDIT``).

Every mutation field opens a patient scope and names its category, so the consent gate decides it
before execution, exactly like a read; the resolver then checks the decision (``require``) before
it loads anything. Every bound on the input (forms, lengths, the number of relatives, at least one
change) is declared here beside the field it bounds (:mod:`resolvers.bounds`) and checked by the gateway
before execution, so a change with a value out of bounds opens no record and asks no source; a
refusal here (the patient has no card, protected relatives) needs the sources' answer and is
:class:`~resolvers.errors.InvalidArgument` naming the argument, never the value.

A stamkort update is optimistic: the caller sends the version it read. A different current version
is a :class:`StaleVersion` (``VERSION_CONFLICT``) without a write; a change that lands between our
read and our write is refused by the register (``If-Match``) and surfaces the same way, so the other
write is never overwritten.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Annotated, Any, TypedDict

import strawberry

from resolvers import blocks
from resolvers.blocks import Block, BlockInput
from resolvers.bounds import DateRange, Format, Refusal, constraint, described
from resolvers.context import Info, require, write_through
from resolvers.directives import PatientScope, reveals
from resolvers.errors import InvalidArgument
from resolvers.formats import LANGUAGE_TAG, LINE, MUNICIPALITY_CODE, PHONE, POSTAL_CODE, VERSION
from resolvers.master_card import MasterCard
from resolvers.protection import hides_protected
from resolvers.scalars import CPR
from sources.categories import DataCategory
from sources.errors import SourceError, SourceVersionConflict
from sources.models import AddressRecord, RelativeRecord, TemporaryAddressRecord

STAMKORT = "stamkort"
"""The source a version conflict is about."""
MAX_RELATIVES = 20

PHONE_NUMBER = constraint(format=PHONE)
LANGUAGE = constraint(format=LANGUAGE_TAG)
LONG_LINE = constraint(max_length=200, format=LINE)
"""An address line, a dentist."""
SHORT_LINE = constraint(max_length=100, format=LINE)
"""A town, a relative's given name."""
OPTIONAL_LINE = constraint(max_length=100, format=LINE.optional())
"""A relative's family name or relation: blank is not given."""
OPTIONAL_PHONE = constraint(format=PHONE.optional())
POSTAL = constraint(format=POSTAL_CODE)
MUNICIPALITY = constraint(format=MUNICIPALITY_CODE)
RELATIVES = constraint(max_items=MAX_RELATIVES)
CARD_VERSION = constraint(format=VERSION)
END_DATE = DateRange(end="endDate", end_not_past=True)
"""A temporary address's last day is not in the past."""


class CardUpdates(TypedDict, total=False):
    """Validated new values of the master-card fields a change set gives (``None`` clears a field)."""

    phone: str | None
    temporary_address: TemporaryAddressRecord | None
    dentist: str | None
    preferred_language: str | None
    relatives: tuple[RelativeRecord, ...]


class StaleVersion(SourceVersionConflict):
    """The master card is no longer at the caller's version; ``current_version`` is the one to re-read."""

    def __init__(self, current_version: str | None, source: str = STAMKORT) -> None:
        super().__init__(source, "version does not match")
        self.current_version = current_version


@strawberry.input(
    description=f"A temporary address (midlertidig adresse); it replaces the one there was ({END_DATE.text()}).",
    directives=[END_DATE],
)
class TemporaryAddressInput:
    line: str = strawberry.field(
        description=described("Street, number, floor and door on one line (adresselinje)", LONG_LINE),
        directives=[LONG_LINE],
    )
    postal_code: str = strawberry.field(description=described("Postal code", POSTAL), directives=[POSTAL])
    city: str = strawberry.field(description=described("Town (postdistrikt)", SHORT_LINE), directives=[SHORT_LINE])
    municipality_code: str | None = strawberry.field(
        default=None,
        description=described("Municipality code, e.g. `0461`", MUNICIPALITY),
        directives=[MUNICIPALITY],
    )
    end_date: date | None = strawberry.field(
        default=None, description="Last day at the address (slutdato), not in the past; null: open-ended."
    )


@strawberry.input(description="A relative (pårørende): the given name is required, the rest optional.")
class RelativeInput:
    given_name: str = strawberry.field(
        description=described("Given name (fornavn)", SHORT_LINE), directives=[SHORT_LINE]
    )
    family_name: str | None = strawberry.field(
        default=None, description=described("Family name (efternavn)", OPTIONAL_LINE), directives=[OPTIONAL_LINE]
    )
    phone: str | None = strawberry.field(
        default=None, description=described("Phone number (telefon)", OPTIONAL_PHONE), directives=[OPTIONAL_PHONE]
    )
    relation: str | None = strawberry.field(
        default=None,
        description=described("How the relative is related (relation), e.g. `søster`", OPTIONAL_LINE),
        directives=[OPTIONAL_LINE],
    )


@strawberry.input(
    description=(
        "Changes to the Fælles Stamkort. A field left out stays as it is; an explicit null clears it. "
        "At least one field must be given."
    )
)
class MasterCardChanges:
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=described("Phone number (telefonnummer)", PHONE_NUMBER),
        directives=[PHONE_NUMBER],
    )
    temporary_address: TemporaryAddressInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="The temporary address (midlertidig adresse); only one at a time, so this replaces it.",
    )
    dentist: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=described("The patient's dentist (tandlæge)", LONG_LINE),
        directives=[LONG_LINE],
    )
    preferred_language: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=described("Preferred language (foretrukket sprog)", LANGUAGE),
        directives=[LANGUAGE],
    )
    relatives: list[RelativeInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description=described("Relatives (pårørende); the list replaces the current one", RELATIVES),
        directives=[RELATIVES],
    )

    @classmethod
    def refusals(cls, values: Mapping[str, Any], today: date) -> Iterator[Refusal]:
        """No change at all is refused (an input rule: :class:`~resolvers.bounds.InputRule`)."""
        if not values:
            yield Refusal((), "gives no changes: set at least one field (null clears it)")

    def updates(self) -> CardUpdates:
        """The new value of every field given (``None`` clears it), in normal form, keyed like the record;
        the gateway checked them before execution."""
        updates: CardUpdates = {}
        if self.phone is not strawberry.UNSET:
            updates["phone"] = None if self.phone is None else PHONE.normal(self.phone)
        if self.temporary_address is not strawberry.UNSET:
            address = self.temporary_address
            updates["temporary_address"] = None if address is None else _temporary_address(address)
        if self.dentist is not strawberry.UNSET:
            updates["dentist"] = None if self.dentist is None else LINE.normal(self.dentist)
        if self.preferred_language is not strawberry.UNSET:
            language = self.preferred_language
            updates["preferred_language"] = None if language is None else LANGUAGE_TAG.normal(language)
        if self.relatives is not strawberry.UNSET:
            updates["relatives"] = tuple(_relative(relative) for relative in self.relatives or [])
        return updates


def _optional(form: Format, value: str | None) -> str | None:
    """``value`` in ``form``'s normal form; a missing or blank value is simply not given."""
    return form.normal(value) if value is not None and value.strip() else None


def _temporary_address(address: TemporaryAddressInput) -> TemporaryAddressRecord:
    municipality = address.municipality_code
    record = AddressRecord(
        LINE.normal(address.line),
        POSTAL_CODE.normal(address.postal_code),
        LINE.normal(address.city),
        MUNICIPALITY_CODE.normal(municipality) if municipality is not None else None,
    )
    return TemporaryAddressRecord(record, address.end_date)


def _relative(relative: RelativeInput) -> RelativeRecord:
    return RelativeRecord(
        first_name=LINE.normal(relative.given_name),
        surname=_optional(LINE, relative.family_name),
        phone=_optional(PHONE, relative.phone),
        relation=_optional(LINE, relative.relation),
    )


async def change_master_card(info: Info, cpr: str, version: str, changes: MasterCardChanges) -> MasterCard:
    """Apply ``changes`` to ``cpr``'s master card if it is still at ``version``; return the stored card."""
    require(info, cpr, DataCategory.MASTER_CARD_EDIT)
    updates = changes.updates()
    if "relatives" in updates and await hides_protected(info, cpr):
        # the list replaces the stored one, which this caller sees only as placeholders (ADR 0012)
        raise InvalidArgument(
            "changes.relatives",
            "the relatives of a patient with name and address protection "
            "are hidden from you, so you cannot replace them",
        )
    loader = info.context.loaders.master_cards
    current = await loader.get(cpr)
    if current is None:
        raise InvalidArgument("cpr", "the patient has no Fælles Stamkort to change")
    if current.version != version:
        raise StaleVersion(current.version)
    write = info.context.writers.update_master_card(dataclasses.replace(current, **updates), version)
    try:
        stored = await write_through(info, cpr, DataCategory.MASTER_CARD_EDIT, write)
    except SourceVersionConflict as exc:
        raise StaleVersion(await _reread_version(info, cpr), exc.source) from exc
    loader.clear(cpr).prime(cpr, stored)
    return MasterCard(cpr=cpr, record=stored)


async def _reread_version(info: Info, cpr: str) -> str | None:
    """The card's version after another write won (best effort: ``None`` if it cannot be read)."""
    loader = info.context.loaders.master_cards
    loader.clear(cpr)
    try:
        card = await loader.get(cpr)
    except SourceError:
        return None
    return card.version if card else None


_CPR_ARGUMENT = strawberry.argument(description="The patient's CPR number.")


@strawberry.type(description="Changes to a patient's data: the Fælles Stamkort and blocks (Min Spærring).")
class Mutation:
    @strawberry.mutation(
        description=(
            "Change the patient's Fælles Stamkort (phone, temporary address, dentist, language, relatives), "
            "for the patient, a representative or a professional with a treatment relation. Pass the `version` "
            "you read; if the card changed since, nothing is written and the error is VERSION_CONFLICT with "
            "`extensions.currentVersion`. Invalid input is BAD_USER_INPUT naming the field in "
            "`extensions.argument`."
        ),
        directives=[PatientScope(patient_argument="cpr"), reveals(DataCategory.MASTER_CARD_EDIT)],
    )
    async def update_master_card(
        self,
        info: Info,
        cpr: Annotated[CPR, _CPR_ARGUMENT],
        version: Annotated[
            str,
            strawberry.argument(
                description=described("The card's version as read (`masterCard.version`)", CARD_VERSION),
                directives=[CARD_VERSION],
            ),
        ],
        changes: Annotated[MasterCardChanges, strawberry.argument(description="The fields to change.")],
    ) -> MasterCard | None:
        return await change_master_card(info, cpr, version, changes)

    @strawberry.mutation(
        description=(
            "Set a new block (spærring) in Min Spærring on a health professional, a treatment place or a period "
            "of data; returns the block as stored."
        ),
        directives=[PatientScope(patient_argument="cpr"), reveals(DataCategory.BLOCKS_EDIT)],
    )
    async def create_block(
        self,
        info: Info,
        cpr: Annotated[CPR, _CPR_ARGUMENT],
        block: Annotated[BlockInput, strawberry.argument(description="The block to set.")],
    ) -> Block | None:
        return await blocks.create_block(info, cpr, block)

    @strawberry.mutation(
        description=(
            "Revoke (ophæv) one of the patient's blocks; returns the block as it was. An id that is not one of "
            "this patient's blocks is BAD_USER_INPUT and nothing is revoked."
        ),
        directives=[PatientScope(patient_argument="cpr"), reveals(DataCategory.BLOCKS_EDIT)],
    )
    async def revoke_block(
        self,
        info: Info,
        cpr: Annotated[CPR, _CPR_ARGUMENT],
        block_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                name="id",
                description=described("The block's id (`Block.id`)", blocks.BLOCK_ID_BOUND),
                directives=[blocks.BLOCK_ID_BOUND],
            ),
        ],
    ) -> Block | None:
        return await blocks.revoke_block(info, cpr, str(block_id))
