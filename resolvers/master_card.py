"""The Fælles Stamkort (category ``MASTER_CARD``), the register flags (category ``REGISTERS``) and the
content of the registrations (category ``REGISTER_DETAILS``).

Professionals see only *whether* the citizen has a treatment will, living will, donor decision or
resuscitation opt-out (domain.md §1.5, §2 rule 10); the content is a separate field and a separate
upstream call, decided by the access plan before anything is fetched. For a protected patient and a caller who gets
placeholders, the phone number, the temporary address, the dentist and the relatives are replaced
(:mod:`resolvers.protection`): they say where the patient lives or how to reach them.
"""

from __future__ import annotations

from datetime import date

import strawberry

from resolvers.context import Info, load
from resolvers.directives import reveals
from resolvers.person import PostalAddress
from resolvers.protection import ProtectedDetail, Redactable, protected_field, protects
from resolvers.vocabulary import graphql_enum
from sources.categories import DataCategory
from sources.deadline import Wave, in_wave
from sources.models import (
    MasterCardRecord,
    Organ,
    OrganDonorDecision,
    OrganDonorRecord,
    RegisterDetailsRecord,
    RegistrationsRecord,
    RelativeRecord,
    TreatmentWillSituation,
)


@strawberry.type(
    description="A relative (pårørende) the patient has listed.",
    directives=[protects(ProtectedDetail.CONTACT, kept=("relation",))],
)
class Relative(Redactable):
    given_name: str = strawberry.field(
        description="Given name (fornavn), always present; `ADRESSEBESKYTTET` for a protected patient's relative."
    )
    family_name: str | None = strawberry.field(description="Family name (efternavn), optional.")
    phone: str | None = strawberry.field(description="Phone number (telefon), optional.")
    relation: str | None = strawberry.field(
        description="How the relative is related (relation), in the patient's words."
    )

    @strawberry.field(description="Full name (navn): given name, then family name when given.")
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}" if self.family_name else self.given_name

    @classmethod
    def from_record(cls, record: RelativeRecord) -> Relative:
        return cls(
            given_name=record.first_name, family_name=record.surname, phone=record.phone, relation=record.relation
        )


@strawberry.type(
    description="A temporary address (midlertidig adresse); at most one at a time.",
    directives=[protects(ProtectedDetail.ADDRESS)],
)
class TemporaryAddress(Redactable):
    address: str = strawberry.field(
        description=(
            "The address on one line; `ADRESSEBESKYTTET` when the patient has name and address protection and "
            "the caller gets placeholders (then `postalAddress` and `endDate` are null)."
        )
    )
    postal_address: PostalAddress | None = strawberry.field(description="The address, structured.")
    end_date: date | None = strawberry.field(description="When the temporary address ends (slutdato), if set.")


graphql_enum(
    TreatmentWillSituation,
    name="TreatmentWillSituation",
    description="A situation a treatment will (behandlingstestamente) covers (sundhedsloven §26).",
    values={
        TreatmentWillSituation.TERMINAL: "The patient is irreversibly dying (uafvendeligt døende).",
        TreatmentWillSituation.SEVERE_ILLNESS: (
            "Illness or accident has left the patient permanently unable to care for themselves (svær invaliditet)."
        ),
        TreatmentWillSituation.DEMENTIA: (
            "Advanced dementia or the like, where treatment would need force (fremskreden demens, tvang)."
        ),
    },
)


graphql_enum(
    OrganDonorDecision,
    name="OrganDonorDecision",
    description="A decision in the Organdonorregister.",
    values={
        OrganDonorDecision.FULL: "Full permission (fuld tilladelse).",
        OrganDonorDecision.FULL_SUBJECT_TO_FAMILY: (
            "Full permission, if the family accepts (fuld tilladelse, pårørendes accept)."
        ),
        OrganDonorDecision.LIMITED: "Permission for the listed organs only (begrænset tilladelse).",
        OrganDonorDecision.LIMITED_SUBJECT_TO_FAMILY: (
            "Permission for the listed organs, if the family accepts (begrænset tilladelse, pårørendes accept)."
        ),
        OrganDonorDecision.PROHIBITION: "No organ may be used (forbud).",
        OrganDonorDecision.UNDECIDED: "Don't know: the family decides (ved ikke).",
    },
)


graphql_enum(
    Organ,
    name="Organ",
    description="An organ a limited donor permission can list (organ).",
    values={
        Organ.HEART: "Heart (hjerte).",
        Organ.LUNGS: "Lungs (lunger).",
        Organ.LIVER: "Liver (lever).",
        Organ.KIDNEYS: "Kidneys (nyrer).",
        Organ.PANCREAS: "Pancreas (bugspytkirtel).",
        Organ.SMALL_INTESTINE: "Small intestine (tyndtarm).",
        Organ.CORNEAS: "Corneas (hornhinder).",
        Organ.SKIN: "Skin (hud).",
    },
)


@strawberry.type(description="A treatment will (behandlingstestamente), registered since 2019.")
class TreatmentWill:
    registered: date = strawberry.field(description="The day it was registered (registreringsdato).")
    situations: list[TreatmentWillSituation] = strawberry.field(description="The situations it covers (situationer).")


@strawberry.type(description="A living will (livstestamente), registered before 2019 and still valid.")
class LivingWill:
    registered: date = strawberry.field(description="The day it was registered (registreringsdato).")


@strawberry.type(description="The patient's decision on organ donation (organdonation), from the Organdonorregister.")
class OrganDonation:
    decision: OrganDonorDecision = strawberry.field(description="The decision (tilladelse, forbud, ved ikke).")
    registered: date = strawberry.field(description="The day it was registered (registreringsdato).")
    organs: list[Organ] = strawberry.field(
        description="The organs a limited permission covers; empty for every other decision."
    )

    @classmethod
    def from_record(cls, record: OrganDonorRecord) -> OrganDonation:
        return cls(
            decision=record.decision,
            registered=record.registered,
            organs=list(record.organs),
        )


@strawberry.type(
    description="An opt-out of resuscitation at cardiac arrest (fravalg af genoplivningsforsøg ved hjertestop)."
)
class ResuscitationOptOut:
    registered: date = strawberry.field(description="The day it was registered (registreringsdato).")


@strawberry.type(
    description=(
        "The content of the patient's registrations, for the patient and their representatives only "
        "(professionals see whether each exists). Null where the patient is not registered."
    )
)
class RegistrationDetails:
    treatment_will: TreatmentWill | None = strawberry.field(description="The treatment will (behandlingstestamente).")
    living_will: LivingWill | None = strawberry.field(description="The living will (livstestamente).")
    organ_donor: OrganDonation | None = strawberry.field(description="The organ donor decision (organdonation).")
    resuscitation_opt_out: ResuscitationOptOut | None = strawberry.field(
        description="The opt-out of resuscitation (fravalg af genoplivningsforsøg)."
    )

    @classmethod
    def from_record(cls, record: RegisterDetailsRecord) -> RegistrationDetails:
        will, living, donor, opt_out = (
            record.treatment_will,
            record.living_will,
            record.organ_donor,
            record.resuscitation_opt_out,
        )
        return cls(
            treatment_will=(
                TreatmentWill(registered=will.registered, situations=list(will.situations)) if will else None
            ),
            living_will=LivingWill(registered=living.registered) if living else None,
            organ_donor=OrganDonation.from_record(donor) if donor else None,
            resuscitation_opt_out=ResuscitationOptOut(registered=opt_out.registered) if opt_out else None,
        )


@strawberry.type(description="Registrations in the will and donor registers: whether each exists.")
class Registrations:
    cpr: strawberry.Private[str]
    treatment_will: bool = strawberry.field(description="A treatment will (behandlingstestamente) is registered.")
    living_will: bool = strawberry.field(description="A living will (livstestamente) is registered.")
    organ_donor: bool = strawberry.field(description="An organ donor decision (organdonation) is registered.")
    resuscitation_opt_out: bool = strawberry.field(
        description="Opt-out of resuscitation (fravalg af genoplivningsforsøg) is registered."
    )

    @strawberry.field(
        description=(
            "What the registrations say: dates, the situations a treatment will (behandlingstestamente) covers, "
            "the organ donor decision (organdonation), the living will (livstestamente) and the opt-out of "
            "resuscitation (fravalg af genoplivningsforsøg). For the patient and their representatives; "
            "professionals get FORBIDDEN and see only the yes/no flags."
        ),
        directives=[reveals(DataCategory.REGISTER_DETAILS)],
    )
    async def details(self, info: Info) -> RegistrationDetails | None:
        with in_wave(Wave.SECOND):
            record = await load(info, self.cpr, DataCategory.REGISTER_DETAILS, info.context.loaders.register_details)
        return RegistrationDetails.from_record(record) if record is not None else None

    @classmethod
    def from_record(cls, record: RegistrationsRecord) -> Registrations:
        return cls(
            cpr=record.cpr,
            treatment_will=record.treatment_will,
            living_will=record.living_will,
            organ_donor=record.organ_donor,
            resuscitation_opt_out=record.resuscitation_opt_out,
        )


@strawberry.type(description="The patient's shared master card (Fælles Stamkort).")
class MasterCard:
    cpr: strawberry.Private[str]
    record: strawberry.Private[MasterCardRecord]

    @protected_field(ProtectedDetail.CONTACT, description="The patient's phone number (telefonnummer).")
    def phone(self) -> str | None:
        return self.record.phone

    @protected_field(
        ProtectedDetail.ADDRESS,
        description=(
            "The temporary address (midlertidig adresse), if any; a placeholder when the patient has name and "
            "address protection and the caller gets placeholders."
        ),
    )
    def temporary_address(self) -> TemporaryAddress | None:
        temporary = self.record.temporary_address
        if temporary is None:
            return None
        address = PostalAddress.from_record(temporary.address)
        return TemporaryAddress(address=address.one_line(), postal_address=address, end_date=temporary.end_date)

    @protected_field(ProtectedDetail.PLACE, description="The patient's dentist (tandlæge).")
    def dentist(self) -> str | None:
        return self.record.dentist

    @strawberry.field(description="Preferred language (foretrukket sprog), a BCP 47 code such as `da`.")
    def preferred_language(self) -> str | None:
        return self.record.preferred_language

    @protected_field(
        ProtectedDetail.CONTACT, description="Relatives (pårørende), in the order the patient listed them."
    )
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
        with in_wave(Wave.SECOND):  # asked once the master card answered (ADR 0024)
            assignment = await info.context.loaders.gp_assignments.get(self.cpr)
        return assignment.insurance_group if assignment else None

    @strawberry.field(
        description="Will and donor registrations: whether each exists.",
        directives=[reveals(DataCategory.REGISTERS)],
    )
    async def registrations(self, info: Info) -> Registrations | None:
        with in_wave(Wave.SECOND):  # asked once the master card answered (ADR 0024)
            record = await load(info, self.cpr, DataCategory.REGISTERS, info.context.loaders.registrations)
        return Registrations.from_record(record) if record is not None else None
