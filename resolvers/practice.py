"""The patient's own general practitioner (category ``GP``).

For a protected patient (navne- og adressebeskyttelse) and a caller who gets placeholders, the
practice is replaced too, as NSP's "person with healthcare information" does (domain.md §1.1, §2
rule 8; :mod:`resolvers.protection`): the GP practice is close to home, so its name, number, address,
phone, SOR-ID and doctors would point to where the patient lives.
"""

from __future__ import annotations

from typing import Annotated, Self

import strawberry

from resolvers.paging import DEFAULT_PAGE, INDEX, Connection, Cursor, First, page
from resolvers.person import PostalAddress
from resolvers.protection import ProtectedDetail, Redactable, protects
from resolvers.sectors import NO_SECTORS, Sectors
from sources.models import DoctorRecord, PracticeRecord

DOCTORS_CURSOR = Cursor("doctors", INDEX)
"""``GeneralPractitioner.doctors(after:)``: a cursor of the practice's doctors."""


@strawberry.type(description="A doctor at the practice (yderperson).", directives=[protects(ProtectedDetail.PLACE)])
class Doctor(Redactable):
    name: str = strawberry.field(description="The doctor's name.")
    authorization_id: str | None = strawberry.field(
        description="Autorisations-ID in the Danish register of health professionals."
    )

    @classmethod
    def from_record(cls, record: DoctorRecord) -> Doctor:
        return cls(name=record.name, authorization_id=record.authorization_id)


@strawberry.type(
    description="The patient's own general practice (egen læge), from the Yderregister.",
    directives=[protects(ProtectedDetail.PLACE)],
)
class GeneralPractitioner(Redactable):
    ydernummer: str = strawberry.field(
        description="The practice's provider number (ydernummer); `ADRESSEBESKYTTET` for a protected patient."
    )
    sor_id: str | None = strawberry.field(description="The practice's SOR-ID (Sundhedsvæsenets Organisationsregister).")
    name: str = strawberry.field(
        description=(
            "The practice's name (praksisbetegnelse). `ADRESSEBESKYTTET` when the patient has name and address "
            "protection and the caller gets placeholders: then every other field is null or empty."
        )
    )
    phone: str | None = strawberry.field(description="The practice's phone number (telefon).")
    address: str | None = strawberry.field(description="The practice's address on one line.")
    postal_address: PostalAddress | None = strawberry.field(description="The practice's address, structured.")
    doctor_list: strawberry.Private[list[Doctor]]
    """Every doctor the register lists for the practice, in its order."""

    @strawberry.field(description="The doctors at the practice (læger), in the register's order.")
    def doctors(
        self, first: First = DEFAULT_PAGE, after: Annotated[str | None, DOCTORS_CURSOR.argument] = None
    ) -> Connection[Doctor]:
        shown = page(self.doctor_list, first, after, cursor=DOCTORS_CURSOR)
        return Connection(nodes=shown.items, page_info=shown.info, total=shown.total)

    def redacted(self, sectors: Sectors = NO_SECTORS) -> Self:
        """The placeholder form: every field blanked and no doctors."""
        clone = super().redacted(sectors)
        if clone is not self:
            clone.doctor_list = []
        return clone

    @classmethod
    def from_record(cls, record: PracticeRecord) -> GeneralPractitioner:
        address = PostalAddress.from_record(record.address) if record.address else None
        return cls(
            ydernummer=record.ydernummer,
            sor_id=record.sor,
            name=record.name,
            phone=record.phone,
            address=address.one_line() if address else None,
            postal_address=address,
            doctor_list=[Doctor.from_record(d) for d in record.doctors],
        )
