"""The Fælles Stamkort (category ``MASTER_CARD``) with the register flags (category ``REGISTERS``)."""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers.context import Info, require, returned
from resolvers.directives import reveals
from resolvers.person import PostalAddress
from sources.categories import DataCategory
from sources.models import MasterCardRecord, RegistrationsRecord, RelativeRecord


@strawberry.type(description="A relative (pårørende) the patient has listed.")
class Relative:
    first_name: str = strawberry.field(description="First name (fornavn), always present.")
    surname: str | None = strawberry.field(description="Surname (efternavn), optional.")
    phone: str | None = strawberry.field(description="Phone number (telefon), optional.")
    relation: str | None = strawberry.field(
        description="How the relative is related (relation), in the patient's words."
    )

    @strawberry.field(description="Full name (navn): first name and surname when given.")
    def name(self) -> str:
        return f"{self.first_name} {self.surname}" if self.surname else self.first_name

    @classmethod
    def from_record(cls, record: RelativeRecord) -> Relative:
        return cls(first_name=record.first_name, surname=record.surname, phone=record.phone, relation=record.relation)


@strawberry.type(description="A temporary address (midlertidig adresse); at most one at a time.")
class TemporaryAddress:
    address: str = strawberry.field(description="The address on one line.")
    postal_address: PostalAddress = strawberry.field(description="The address, structured.")
    end_date: date | None = strawberry.field(description="When the temporary address ends (slutdato), if set.")


@strawberry.type(description="Registrations in the will and donor registers: whether each exists.")
class Registrations:
    treatment_will: bool = strawberry.field(description="A treatment will (behandlingstestamente) is registered.")
    living_will: bool = strawberry.field(description="A living will (livstestamente) is registered.")
    organ_donor: bool = strawberry.field(description="An organ donor decision (organdonation) is registered.")
    resuscitation_opt_out: bool = strawberry.field(
        description="Opt-out of resuscitation (fravalg af genoplivningsforsøg) is registered."
    )

    @classmethod
    def from_record(cls, record: RegistrationsRecord) -> Registrations:
        return cls(
            treatment_will=record.treatment_will,
            living_will=record.living_will,
            organ_donor=record.organ_donor,
            resuscitation_opt_out=record.resuscitation_opt_out,
        )


@strawberry.type(description="The patient's shared master card (Fælles Stamkort).")
class MasterCard:
    cpr: strawberry.Private[str]
    record: strawberry.Private[MasterCardRecord]

    @strawberry.field(description="The patient's phone number (telefonnummer).")
    def phone(self) -> str | None:
        return self.record.phone

    @strawberry.field(description="The temporary address (midlertidig adresse), if any.")
    def temporary_address(self) -> TemporaryAddress | None:
        temporary = self.record.temporary_address
        if temporary is None:
            return None
        address = PostalAddress.from_record(temporary.address)
        return TemporaryAddress(address=address.one_line(), postal_address=address, end_date=temporary.end_date)

    @strawberry.field(description="The patient's dentist (tandlæge).")
    def dentist(self) -> str | None:
        return self.record.dentist

    @strawberry.field(description="Preferred language (foretrukket sprog), a BCP 47 code such as `da`.")
    def preferred_language(self) -> str | None:
        return self.record.preferred_language

    @strawberry.field(description="Relatives (pårørende), in the order the patient listed them.")
    def relatives(self) -> list[Relative]:
        return [Relative.from_record(r) for r in self.record.relatives]

    @strawberry.field(description="The master card's version, for optimistic updates.")
    def version(self) -> str:
        return self.record.version

    @strawberry.field(
        description="Health-insurance group (sygesikringsgruppe) 1 or 2, from the Sikrede register.",
        directives=[reveals(DataCategory.MASTER_CARD)],
    )
    async def health_insurance_group(self, info: Info) -> int | None:
        assignment = await info.context.loaders.gp_assignments.get(self.cpr)
        return assignment.insurance_group if assignment else None

    @strawberry.field(
        description="Will and donor registrations: whether each exists.",
        directives=[reveals(DataCategory.REGISTERS)],
    )
    async def registrations(self, info: Info) -> Registrations | None:
        require(info, self.cpr, DataCategory.REGISTERS)
        record = await info.context.loaders.registrations.get(self.cpr)
        if record is None:
            return None
        returned(info, self.cpr, DataCategory.REGISTERS)
        return Registrations.from_record(record)
