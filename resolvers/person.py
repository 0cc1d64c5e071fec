"""The person as CPR knows them (category ``PERSON``), and the CPR redaction rules.

- Name and address protection (domain.md §1.1, §2 rule 8; :mod:`resolvers.protection`): a caller who
  gets placeholders sees ``ADRESSEBESKYTTET`` for the name and address, no sex, birth date or civil
  status. The person's status, status date and ``replacedBy`` stay real: NSP's censored answer says
  status 01, but a protected person who has died or changed number must not look active and current.
- Statuses 20, 30, 50, 60, 70 and 90 show no address, as NSP does, and so does 80 (emigrated):
  after emigration there is no Danish folkeregisteradresse, and CPR's last Danish address is stale.
  Status, status date and ``replacedBy`` (PNRGAELD) are always shown.
- A status code the gateway does not know (``99``, ``02``) is shown as ``UNKNOWN`` with its code in
  ``statusCode``, without an address: the person is never lost over it.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from resolvers.protection import PROTECTED_PLACEHOLDER, ProtectedDetail, Redactable, protects
from resolvers.scalars import CPR
from resolvers.sectors import NO_SECTORS, Sectors
from resolvers.vocabulary import graphql_enum
from sources.models import AddressRecord, PersonRecord, Sex
from sources.payloads import member

ADDRESS_STATUSES = frozenset({"01", "03", "05", "07"})
"""Statuses shown with an address: the active ones. NSP shows none for 20, 30, 50, 60, 70 and 90; 80
(emigrated) shows none either, and a code the gateway does not know shows none (fail closed)."""


def _cpr(value: str | None) -> CPR | None:
    return CPR(value) if value is not None else None


@strawberry.enum(description="CPR person status (personstatus), with the two-digit code in `statusCode`.")
class CprStatus(Enum):
    ACTIVE = strawberry.enum_value("01", description="01: active, resident in Denmark (aktiv, bopæl i Danmark).")
    ACTIVE_SPECIAL_ROAD_CODE = strawberry.enum_value("03", description="03: active, special road code 9900-9999.")
    ACTIVE_GREENLAND = strawberry.enum_value("05", description="05: active, resident in Greenland.")
    ACTIVE_GREENLAND_SPECIAL_ROAD_CODE = strawberry.enum_value(
        "07", description="07: active, special road code in Greenland."
    )
    INACTIVE = strawberry.enum_value("20", description="20: inactive, number issued for tax purposes only.")
    CANCELLED = strawberry.enum_value("30", description="30: cancelled (annulleret).")
    DELETED_DUPLICATE = strawberry.enum_value("50", description="50: deleted as a duplicate (slettet).")
    CHANGED_NUMBER = strawberry.enum_value(
        "60", description="60: changed number (ændret personnummer); see `replacedBy`."
    )
    MISSING = strawberry.enum_value("70", description="70: missing (forsvundet).")
    EMIGRATED = strawberry.enum_value("80", description="80: emigrated (udrejst).")
    DEAD = strawberry.enum_value("90", description="90: dead (død).")
    UNKNOWN = strawberry.enum_value(
        "unknown", description="A code the gateway does not know (CPR sent it, `statusCode` holds it): no address."
    )


graphql_enum(
    Sex,
    name="Sex",
    description="Sex as registered in CPR (køn).",
    values={
        Sex.MALE: "Male (mand), KOEN M.",
        Sex.FEMALE: "Female (kvinde), KOEN K.",
        Sex.UNKNOWN: "Not shown, e.g. for a protected person.",
    },
)


@strawberry.type(description="A postal address (adresse).", directives=[protects(ProtectedDetail.ADDRESS)])
class PostalAddress(Redactable):
    line: str = strawberry.field(description="Street, number, floor and door (vejnavn, husnummer, etage, dør).")
    postal_code: str | None = strawberry.field(
        description="Postal code (postnummer); null when CPR has none (a person without a fixed address)."
    )
    city: str | None = strawberry.field(description="Postal district (postdistrikt); null when CPR has none.")
    municipality_code: str | None = strawberry.field(description="Municipality code (kommunekode), 4 digits.")

    @classmethod
    def from_record(cls, record: AddressRecord) -> PostalAddress:
        return cls(
            line=record.line,
            postal_code=record.postal_code,
            city=record.city,
            municipality_code=record.municipality_code,
        )

    def one_line(self) -> str:
        """``line, postal code city``, leaving out what is not known."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return ", ".join(part for part in (self.line, town) if part)


@strawberry.type(
    description="The patient as registered in CPR (Det Centrale Personregister).",
    directives=[
        protects(
            ProtectedDetail.NAME,
            kept=("status", "statusCode", "statusDate", "nameAndAddressProtected", "replacedBy"),
        )
    ],
)
class Person(Redactable):
    name: str = strawberry.field(description="Full name (navn): given and middle names, then surname.")
    given_name: str = strawberry.field(description="Given and middle names (fornavne og mellemnavne).")
    family_name: str = strawberry.field(description="Surname (efternavn).")
    address: str | None = strawberry.field(
        description="The home address on one line (folkeregisteradresse); null when CPR has none to show."
    )
    postal_address: PostalAddress | None = strawberry.field(description="The home address, structured.")
    status: CprStatus = strawberry.field(description="Person status (personstatus).")
    status_code: str = strawberry.field(description="The two-digit CPR status code.")
    status_date: date | None = strawberry.field(description="Date the status took effect (statusdato).")
    sex: Sex = strawberry.field(description="Sex (køn).")
    birth_date: date | None = strawberry.field(description="Date of birth (fødselsdato).")
    name_and_address_protected: bool = strawberry.field(
        description="Name and address protection (navne- og adressebeskyttelse) is in force."
    )
    replaced_by: CPR | None = strawberry.field(
        description="The current CPR number when this number was changed (PNRGAELD)."
    )
    civil_status: str | None = strawberry.field(description="Civil status code (civilstand): U, G, F, E, P, O, L, D.")

    @classmethod
    def from_record(cls, record: PersonRecord) -> Person:
        """The person as CPR records them (no address for the statuses that show none)."""
        address = None
        if record.address is not None and record.status in ADDRESS_STATUSES:
            address = PostalAddress.from_record(record.address)
        return cls(
            name=f"{record.given_name} {record.family_name}".strip(),
            given_name=record.given_name,
            family_name=record.family_name,
            address=address.one_line() if address else None,
            postal_address=address,
            status=member(CprStatus, record.status) or CprStatus.UNKNOWN,
            status_code=record.status,
            status_date=record.status_date,
            sex=record.sex,
            birth_date=record.birth_date,
            name_and_address_protected=record.protected,
            replaced_by=_cpr(record.replaced_by),
            civil_status=record.civil_status,
        )

    def redacted(self, sectors: Sectors = NO_SECTORS) -> Person:
        """The censored person NSP gives callers who are not authorities: placeholders, no sex or birth date."""
        return Person(
            name=PROTECTED_PLACEHOLDER,
            given_name=PROTECTED_PLACEHOLDER,
            family_name=PROTECTED_PLACEHOLDER,
            address=PROTECTED_PLACEHOLDER if self.address else None,
            postal_address=None,
            status=self.status,
            status_code=self.status_code,
            status_date=self.status_date,
            sex=Sex.UNKNOWN,
            birth_date=None,
            name_and_address_protected=True,
            replaced_by=self.replaced_by,
            civil_status=None,
        )
