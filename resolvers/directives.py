"""Schema directives that tell the consent gate what each field reveals.

They print in ``schema.graphql``, so a change to what a field reveals shows in review.
"""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location

from resolvers.vocabulary import DataCategory


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="category",
    description="The field reveals this category of the patient in scope; the consent gate decides it.",
)
class Category:
    category: DataCategory


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="patientScope",
    description="The field opens a patient scope; the named argument is the patient's CPR number.",
)
class PatientScope:
    patient_argument: str = "cpr"
    override_argument: str | None = strawberry.UNSET
    """The argument carrying a professional's override (værdispring), when the field takes one. Unset, it is
    not printed: Guild's Federation composition refuses a ``null`` in a directive application."""


def reveals(category: DataCategory) -> Category:
    """The directive marking a field as revealing ``category``."""
    return Category(category=category)
