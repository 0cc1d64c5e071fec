"""Schema directives that tell the consent gate what each field reveals.

They print in ``schema.graphql``, so a change to what a field reveals shows in review.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.schema_directive import Location

from sources.categories import DataCategory


@strawberry.enum(
    name="DataCategory",
    description="A kind of patient data; access is decided per patient and category before execution.",
)
class DataCategoryValue(Enum):
    PERSON = strawberry.enum_value(DataCategory.PERSON, description="Name, address, status and relations from CPR.")
    GP = strawberry.enum_value(
        DataCategory.GP, description="The patient's own general practitioner (egen læge) and insurance group."
    )
    MASTER_CARD = strawberry.enum_value(
        DataCategory.MASTER_CARD,
        description="The Fælles Stamkort: phone, temporary address, dentist, language, relatives.",
    )
    REGISTERS = strawberry.enum_value(
        DataCategory.REGISTERS,
        description="Treatment will, living will, organ donor and resuscitation opt-out registrations.",
    )
    APPOINTMENTS = strawberry.enum_value(
        DataCategory.APPOINTMENTS,
        description="Appointments (aftaler) from hospitals, municipalities and general practice.",
    )
    PLANS = strawberry.enum_value(
        DataCategory.PLANS, description="Plans (forløbsplaner) and their interventions (indsatser)."
    )
    GOALS = strawberry.enum_value(
        DataCategory.GOALS, description="Goals (mål): life, disease-specific and functional goals, and sub-goals."
    )
    DIAGNOSES = strawberry.enum_value(
        DataCategory.DIAGNOSES, description="Diagnoses and problems in SKS, ICPC2, FSIII or SNOMED CT."
    )
    REGISTER_DETAILS = strawberry.enum_value(
        DataCategory.REGISTER_DETAILS,
        description="The content of will, donor and resuscitation registrations (citizen and representatives).",
    )
    ACCESS_LOG = strawberry.enum_value(
        DataCategory.ACCESS_LOG, description="The patient's access log (Min Log): who looked, when and why."
    )
    BLOCKS = strawberry.enum_value(DataCategory.BLOCKS, description="The patient's own blocks (Min Spærring).")
    MASTER_CARD_EDIT = strawberry.enum_value(
        DataCategory.MASTER_CARD_EDIT, description="Changing the Fælles Stamkort on the patient's behalf."
    )
    BLOCKS_EDIT = strawberry.enum_value(
        DataCategory.BLOCKS_EDIT, description="Creating and revoking the patient's blocks (Min Spærring)."
    )


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="category",
    description="The field reveals this category of the patient in scope; the consent gate decides it.",
)
class Category:
    category: DataCategoryValue


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="patientScope",
    description="The field opens a patient scope; the named argument is the patient's CPR number.",
)
class PatientScope:
    patient_argument: str = "cpr"
    override_argument: str | None = None
    """The argument carrying a professional's override (værdispring), when the field takes one."""


def reveals(category: DataCategory) -> Category:
    """The directive marking a field as revealing ``category``."""
    return Category(category=DataCategoryValue(category))
