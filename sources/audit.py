"""The access record (Min Log entry): the vocabulary shared by the gate that writes it, the stores
that keep it, the resolvers that show it to the citizen and the sink that exports it.

It lives at the bottom of the layers, like :mod:`sources.categories`, so every layer can use it
without importing upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AccessorKind(StrEnum):
    """Who made an access, as the record (and the citizen's log) names them."""

    CITIZEN = "citizen"
    """The patient themselves."""
    REPRESENTATIVE = "representative"
    """A relative or other person with a digital power of attorney (digital fuldmagt)."""
    PARENT = "parent"
    """A parent with custody (forældremyndighed) of a child under 15."""
    GUARDIAN = "guardian"
    """A guardian (værge) as CPR records it."""
    PROFESSIONAL = "professional"
    """An authorised health professional (sundhedsperson)."""
    ASSISTANT = "assistant"
    """An assistant (medhjælp) acting for a responsible professional."""
    SYSTEM = "system"
    """A vendor system (EPJ/EOJ) acting for a professional."""


class OverrideGround(StrEnum):
    """Why a professional lifted the patient's blocks (værdispring / consent override)."""

    PATIENT_CONSENT = "PATIENT_CONSENT"
    """The patient consented, for this professional, now."""
    NOT_CONTACTABLE = "NOT_CONTACTABLE"
    """The patient cannot be asked (for example unconscious) and the data is needed now."""


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One request's access to one patient's data (or one write on the patient's behalf)."""

    id: str
    at: datetime
    """When, as an aware UTC datetime."""
    request_id: str
    activity: str
    """``read`` or ``write``."""
    actor_kind: str
    """An :class:`AccessorKind` value."""
    actor_id: str
    """CPR number (citizens and representatives), autorisations-ID (professionals, and the acting
    professional of a system), or the assistant's user ID."""
    actor_name: str | None
    profession: str | None
    """The professional's profession, in Danish (læge, sygeplejerske …)."""
    organisation_sor: str | None
    organisation_name: str | None
    client_id: str | None
    """The client application (a vendor system's registration)."""
    acting_for_id: str | None
    """The responsible professional's autorisations-ID when an assistant acted."""
    acting_for_name: str | None
    patient_cpr: str
    requested_cpr: str | None
    """The number the caller asked for, when it was a changed number followed to ``patient_cpr``."""
    requested: tuple[str, ...]
    returned: tuple[str, ...]
    denied: tuple[str, ...]
    withheld: tuple[str, ...]
    override_ground: str | None
    """An :class:`OverrideGround` value when the professional overrode the patient's blocks."""
    override_reason: str | None
    operation_hash: str
    """SHA-256 of the GraphQL document, so the exact operation can be found again."""
    operation_name: str | None


AccessCursor = tuple[datetime, str]
"""A position in a patient's log, newest first: entries strictly older than ``(at, id)`` follow."""
