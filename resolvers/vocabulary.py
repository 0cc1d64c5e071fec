"""The shared vocabulary as GraphQL enums: each is the very Python enum of ``sources/``, described here.

One concept, one enum: :func:`graphql_enum` turns the enum the other layers use into a GraphQL enum
(names as in Python, so the schema keeps its names) and gives every value its description from a
table. The table must describe every member: a missing or extra one fails at import, so the schema,
and every test that builds it, fails with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from sources.audit import AccessActivity, AccessorKind, AccessOutcome, ActorKind, OverrideGround
from sources.categories import DataCategory

__all__ = [
    "AccessActivity",
    "AccessOutcome",
    "AccessorKind",
    "ActorKind",
    "DataCategory",
    "OverrideGround",
    "graphql_enum",
]

E = TypeVar("E", bound=Enum)


def graphql_enum(cls: type[E], *, name: str, description: str, values: Mapping[E, str]) -> type[E]:
    """Expose ``cls`` to GraphQL as ``name``, each member described by ``values`` (which must be total).

    Raises ``TypeError`` when ``values`` misses a member of ``cls`` or names something else.
    """
    if set(values) != set(cls):
        missing = sorted(m.name for m in set(cls) - set(values))
        raise TypeError(f"GraphQL enum {name} must describe every member of {cls.__name__}; missing {missing}")
    strawberry.enum(cls, name=name, description=description)
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    assert isinstance(definition, StrawberryEnumDefinition)
    for value in definition.values:
        value.description = values[cls[value.name]]
    return cls


graphql_enum(
    ActorKind,
    name="CallerKind",
    description="The kind of caller.",
    values={
        ActorKind.ANONYMOUS: "No bearer token was sent.",
        ActorKind.CITIZEN: "A citizen (borger), signed in as themselves; may act for those they represent.",
        ActorKind.PROFESSIONAL: "A health professional (sundhedsperson) with an autorisations-ID.",
        ActorKind.SYSTEM: "A vendor system (EPJ/EOJ) acting for a professional, limited to its registered fields.",
    },
)

graphql_enum(
    AccessorKind,
    name="AccessorKind",
    description="Who made an access, by their relation to the patient.",
    values={
        AccessorKind.CITIZEN: "A citizen (borger): usually the patient.",
        AccessorKind.REPRESENTATIVE: "A representative with a digital power of attorney (fuldmagt).",
        AccessorKind.PARENT: "A parent with custody (forældremyndighed) of a child under 15.",
        AccessorKind.GUARDIAN: "A guardian (værge).",
        AccessorKind.PROFESSIONAL: "An authorised health professional (sundhedsperson).",
        AccessorKind.ASSISTANT: "An assistant (medhjælp) acting for a responsible professional.",
        AccessorKind.SYSTEM: "A vendor system (fagsystem, EPJ/EOJ) acting for a professional.",
    },
)

graphql_enum(
    AccessActivity,
    name="AccessActivity",
    description="What an access did (aktivitet).",
    values={
        AccessActivity.READ: "Data was read (læst).",
        AccessActivity.WRITE: "Data was changed (ændret).",
    },
)

graphql_enum(
    AccessOutcome,
    name="AccessOutcome",
    description="How an access ended (udfald).",
    values={
        AccessOutcome.ACCESSED: "Data was shown or changed (vist eller ændret).",
        AccessOutcome.REFUSED: "The access was refused; nothing was shown (afvist).",
        AccessOutcome.NOTHING: "Nothing was refused and nothing was shown (intet vist).",
        AccessOutcome.UNCONFIRMED: (
            "A change was attempted and it is not confirmed whether it was made (ikke bekræftet): the source did "
            "not answer the change, or the request failed before its outcome was recorded."
        ),
    },
)

graphql_enum(
    OverrideGround,
    name="OverrideGround",
    description="Why a professional lifts the patient's blocks (værdispring).",
    values={
        OverrideGround.PATIENT_CONSENT: "The patient consents, for this professional, now (samtykke).",
        OverrideGround.NOT_CONTACTABLE: (
            "The patient cannot be asked and the data is needed for their treatment now (ikke kontaktbar)."
        ),
    },
)

graphql_enum(
    DataCategory,
    name="DataCategory",
    description="A kind of patient data; access is decided per patient and category before execution.",
    values={
        DataCategory.PERSON: "Name, address, status and relations from CPR.",
        DataCategory.GP: "The patient's own general practitioner (egen læge) and insurance group.",
        DataCategory.MASTER_CARD: "The Fælles Stamkort: phone, temporary address, dentist, language, relatives.",
        DataCategory.REGISTERS: "Treatment will, living will, organ donor and resuscitation opt-out registrations.",
        DataCategory.APPOINTMENTS: "Appointments (aftaler) from hospitals, municipalities and general practice.",
        DataCategory.PLANS: "Plans (forløbsplaner) and their interventions (indsatser).",
        DataCategory.GOALS: "Goals (mål): life, disease-specific and functional goals, and sub-goals.",
        DataCategory.DIAGNOSES: "Diagnoses and problems in SKS, ICPC2, FSIII or SNOMED CT.",
        DataCategory.REGISTER_DETAILS: (
            "The content of will, donor and resuscitation registrations (citizen and representatives)."
        ),
        DataCategory.ACCESS_LOG: "The patient's access log (Min Log): who looked, when and why.",
        DataCategory.BLOCKS: "The patient's own blocks (Min Spærring).",
        DataCategory.MASTER_CARD_EDIT: "Changing the Fælles Stamkort on the patient's behalf.",
        DataCategory.BLOCKS_EDIT: "Creating and revoking the patient's blocks (Min Spærring).",
    },
)
