"""The override (værdispring) as GraphQL sees it: the grounds, and the argument a professional sends."""

from __future__ import annotations

from enum import Enum

import strawberry

from sources.audit import OverrideGround


@strawberry.enum(name="OverrideGround", description="Why a professional lifts the patient's blocks (værdispring).")
class OverrideGroundValue(Enum):
    PATIENT_CONSENT = strawberry.enum_value(
        OverrideGround.PATIENT_CONSENT, description="The patient consents, for this professional, now (samtykke)."
    )
    NOT_CONTACTABLE = strawberry.enum_value(
        OverrideGround.NOT_CONTACTABLE,
        description="The patient cannot be asked and the data is needed for their treatment now (ikke kontaktbar).",
    )


@strawberry.input(
    description=(
        "A professional's override of the patient's blocks (værdispring, consent override) for this request only. "
        "Recorded prominently in the patient's access log with its ground and reason."
    )
)
class OverrideInput:
    ground: OverrideGroundValue = strawberry.field(description="The ground (grundlag) for overriding.")
    reason: str = strawberry.field(description="Why, in your words (begrundelse): 10 to 500 characters.")
