"""Writes: the Fælles Stamkort (category ``MASTER_CARD_EDIT``) and blocks (``BLOCKS_EDIT``).

Every mutation field opens a patient scope and names its category, so the consent gate decides it
before execution, exactly like a read; the resolver then checks the decision (``require``) before
it validates or loads anything. Input is validated before any source is called; a failure is
:class:`~resolvers.errors.InvalidArgument` naming the argument (``changes.<field>``), never the value.

A stamkort update is optimistic: the caller sends the version it read. A different current version
is a :class:`StaleVersion` (``VERSION_CONFLICT``) without a write; a change that lands between our
read and our write is refused by the register (``If-Match``) and surfaces the same way, so the other
write is never overwritten.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import date
from typing import Annotated, TypedDict

import strawberry

from resolvers import blocks
from resolvers.blocks import Block, BlockInput, today
from resolvers.context import Info, require, write_through
from resolvers.directives import PatientScope, reveals
from resolvers.errors import InvalidArgument, check_date
from resolvers.master_card import MasterCard
from resolvers.protection import PROTECTED_PLACEHOLDER, hides_protected
from resolvers.scalars import CPR
from sources.categories import DataCategory
from sources.errors import SourceError, SourceVersionConflict
from sources.models import AddressRecord, RelativeRecord, TemporaryAddressRecord

STAMKORT = "stamkort"
"""The source a version conflict is about."""
MAX_RELATIVES = 20
_VERSION = re.compile(r"[0-9A-Za-z.\-]{1,64}")
_DANISH_PHONE = re.compile(r"(?:\+45|0045)?([0-9]{8})")
_INTERNATIONAL_PHONE = re.compile(r"\+(?!45)[1-9][0-9]{6,14}")
_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?")
_POSTAL_CODE = re.compile(r"[0-9]{4}")
_MUNICIPALITY_CODE = re.compile(r"[0-9]{3,4}")


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


@strawberry.input(description="A temporary address (midlertidig adresse); it replaces the one there was.")
class TemporaryAddressInput:
    line: str = strawberry.field(description="Street, number, floor and door on one line (adresselinje).")
    postal_code: str = strawberry.field(description="Postal code (postnummer), 4 digits.")
    city: str = strawberry.field(description="Town (postdistrikt).")
    municipality_code: str | None = strawberry.field(
        default=None, description="Municipality code (kommunekode), e.g. `0461`."
    )
    end_date: date | None = strawberry.field(
        default=None, description="Last day at the address (slutdato), not in the past; null: open-ended."
    )


@strawberry.input(description="A relative (pårørende): the given name is required, the rest optional.")
class RelativeInput:
    given_name: str = strawberry.field(description="Given name (fornavn).")
    family_name: str | None = strawberry.field(default=None, description="Family name (efternavn).")
    phone: str | None = strawberry.field(default=None, description="Phone number (telefon).")
    relation: str | None = strawberry.field(
        default=None, description="How the relative is related (relation), e.g. `søster`."
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
        description=(
            "Phone number (telefonnummer): 8 digits, optionally after +45 or 0045, spaces allowed (stored as the "
            "8 digits); or a foreign number as + and digits."
        ),
    )
    temporary_address: TemporaryAddressInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="The temporary address (midlertidig adresse); only one at a time, so this replaces it.",
    )
    dentist: str | None = strawberry.field(default=strawberry.UNSET, description="The patient's dentist (tandlæge).")
    preferred_language: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Preferred language (foretrukket sprog) as a BCP 47 tag, such as `da`, `en` or `de`.",
    )
    relatives: list[RelativeInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"Relatives (pårørende), at most {MAX_RELATIVES}; the list replaces the current one.",
    )

    def updates(self, on: date) -> CardUpdates:
        """The validated new value of every field given (``None`` clears it), keyed like the record."""
        updates: CardUpdates = {}
        if self.phone is not strawberry.UNSET:
            updates["phone"] = None if self.phone is None else phone_number(self.phone, "changes.phone")
        if self.temporary_address is not strawberry.UNSET:
            address = self.temporary_address
            updates["temporary_address"] = None if address is None else _temporary_address(address, on)
        if self.dentist is not strawberry.UNSET:
            updates["dentist"] = None if self.dentist is None else _text(self.dentist, "changes.dentist", 200)
        if self.preferred_language is not strawberry.UNSET:
            language = self.preferred_language
            updates["preferred_language"] = None if language is None else language_tag(language)
        if self.relatives is not strawberry.UNSET:
            updates["relatives"] = _relatives(self.relatives or [])
        if not updates:
            raise InvalidArgument("changes", "no changes given: set at least one field (null clears it)")
        return updates


def phone_number(value: str, argument: str) -> str:
    """A Danish number as its 8 digits, a foreign one as ``+`` and digits; spaces are dropped."""
    compact = value.replace(" ", "")
    if danish := _DANISH_PHONE.fullmatch(compact):
        return danish.group(1)
    if _INTERNATIONAL_PHONE.fullmatch(compact):
        return compact
    raise InvalidArgument(
        argument, "a phone number is 8 digits, optionally after +45 or 0045, or a foreign number as + and digits"
    )


def language_tag(value: str) -> str:
    """A BCP 47 language tag (language, optional script and region), in its usual letter case."""
    match = _LANGUAGE.fullmatch(value.strip())
    if match is None:
        raise InvalidArgument(
            "changes.preferredLanguage", "the language must be a BCP 47 tag such as da, en, de or en-GB"
        )
    language, script, region = match.groups()
    return "-".join(
        part
        for part in (language.lower(), script.title() if script else None, region.upper() if region else None)
        if part
    )


def _text(value: str, argument: str, max_length: int) -> str:
    """A free-text value, trimmed: not blank, at most ``max_length`` characters, one line."""
    trimmed = value.strip()
    if not trimmed:
        raise InvalidArgument(argument, "must not be blank")
    if len(trimmed) > max_length:
        raise InvalidArgument(argument, f"must be at most {max_length} characters")
    if any(unicodedata.category(c) == "Cc" for c in trimmed):
        raise InvalidArgument(argument, "must be one line without control characters")
    if trimmed.casefold() == PROTECTED_PLACEHOLDER.casefold():
        raise InvalidArgument(argument, "is the placeholder name and address protection shows, not a value")
    return trimmed


def _optional_text(value: str | None, argument: str, max_length: int) -> str | None:
    """Like :func:`_text`, but a missing or blank value is simply not given."""
    return _text(value, argument, max_length) if value is not None and value.strip() else None


def _temporary_address(address: TemporaryAddressInput, on: date) -> TemporaryAddressRecord:
    prefix = "changes.temporaryAddress"
    postal_code = address.postal_code.strip()
    if not _POSTAL_CODE.fullmatch(postal_code):
        raise InvalidArgument(f"{prefix}.postalCode", "a postal code (postnummer) is 4 digits")
    municipality = None
    if address.municipality_code is not None:
        municipality = address.municipality_code.strip()
        if not _MUNICIPALITY_CODE.fullmatch(municipality):
            raise InvalidArgument(f"{prefix}.municipalityCode", "a municipality code (kommunekode) is 3 or 4 digits")
        municipality = municipality.zfill(4)
    check_date(address.end_date, f"{prefix}.endDate")
    if address.end_date is not None and address.end_date < on:
        raise InvalidArgument(f"{prefix}.endDate", "the end date (slutdato) is in the past")
    record = AddressRecord(
        _text(address.line, f"{prefix}.line", 200),
        postal_code,
        _text(address.city, f"{prefix}.city", 100),
        municipality,
    )
    return TemporaryAddressRecord(record, address.end_date)


def _relatives(relatives: list[RelativeInput]) -> tuple[RelativeRecord, ...]:
    if len(relatives) > MAX_RELATIVES:
        raise InvalidArgument("changes.relatives", f"at most {MAX_RELATIVES} relatives")
    records = []
    for index, relative in enumerate(relatives):
        prefix = f"changes.relatives.{index}"
        records.append(
            RelativeRecord(
                first_name=_text(relative.given_name, f"{prefix}.givenName", 100),
                surname=_optional_text(relative.family_name, f"{prefix}.familyName", 100),
                phone=(
                    phone_number(relative.phone, f"{prefix}.phone")
                    if relative.phone is not None and relative.phone.strip()
                    else None
                ),
                relation=_optional_text(relative.relation, f"{prefix}.relation", 100),
            )
        )
    return tuple(records)


async def change_master_card(info: Info, cpr: str, version: str, changes: MasterCardChanges) -> MasterCard:
    """Apply ``changes`` to ``cpr``'s master card if it is still at ``version``; return the stored card."""
    require(info, cpr, DataCategory.MASTER_CARD_EDIT)
    if not _VERSION.fullmatch(version):
        raise InvalidArgument("version", "not a master-card version; read `masterCard { version }`")
    updates = changes.updates(today())
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
        version: Annotated[str, strawberry.argument(description="The card's version as read (`masterCard.version`).")],
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
        block_id: Annotated[strawberry.ID, strawberry.argument(name="id", description="The block's id (`Block.id`).")],
    ) -> Block | None:
        return await blocks.revoke_block(info, cpr, str(block_id))
