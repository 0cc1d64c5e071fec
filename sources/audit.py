"""The shared vocabulary of access: who calls, how they relate to the patient, and the access record.

The access record (Min Log entry) is written by the gate, kept by the stores, shown to the citizen
by the resolvers and exported by the Min Log sink. Every closed set here is one ``StrEnum`` that the
other layers map exhaustively (``match`` with :func:`typing.assert_never`), so mypy names the place
a new member is forgotten; GraphQL exposes these same enums (``resolvers/vocabulary.py``).

It lives at the bottom of the layers, like :mod:`sources.categories`, so every layer can use it
without importing upwards.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from sources.categories import DataCategory


class ActorKind(StrEnum):
    """How the caller authenticated (the token's ``actor_kind``); ``ANONYMOUS`` without a token."""

    ANONYMOUS = "anonymous"
    """No bearer token was sent."""
    CITIZEN = "citizen"
    """A citizen signed in as themselves (MitID); may act for those they represent."""
    PROFESSIONAL = "professional"
    """A health professional with an autorisations-ID, or an assistant acting for one."""
    SYSTEM = "system"
    """A vendor system (EPJ/EOJ) acting for a professional, limited to its registered fields."""


class AccessorKind(StrEnum):
    """How the caller relates to the patient, as the record (and the citizen's log) names them.

    Only an authenticated caller has one: an anonymous attempt is never an access record.
    """

    CITIZEN = "citizen"
    """A citizen: the patient themselves, or another citizen who was refused."""
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


class AccessActivity(StrEnum):
    """What an access did."""

    READ = "read"
    """Data was read."""
    WRITE = "write"
    """Data was changed (a write category was asked for)."""


class AccessOutcome(StrEnum):
    """How one request's access to one patient ended, as the record states it."""

    ACCESSED = "accessed"
    """Data of at least one category went out (or was changed)."""
    REFUSED = "refused"
    """The patient, or every category asked for, was refused; nothing went out."""
    NOTHING = "nothing"
    """Nothing was refused and nothing went out (no data asked for, or none found)."""
    UNCONFIRMED = "unconfirmed"
    """A change was attempted and it is not confirmed whether it was made: the source did not answer
    the write, or the record of how it ended could not be written (the record written before the
    write stands). Never used for a read."""


class OverrideGround(StrEnum):
    """Why a professional lifted the patient's blocks (værdispring / consent override)."""

    PATIENT_CONSENT = "PATIENT_CONSENT"
    """The patient consented, for this professional, now."""
    NOT_CONTACTABLE = "NOT_CONTACTABLE"
    """The patient cannot be asked (for example unconscious) and the data is needed now."""


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One request's access to one patient's data (or one write on the patient's behalf).

    Every closed field holds its enum, and ``at`` is aware: construction raises ``TypeError`` or
    ``ValueError`` otherwise, so a record the Min Log mapping cannot express cannot exist.
    """

    id: str
    at: datetime
    """When, as an aware UTC datetime."""
    request_id: str
    activity: AccessActivity
    outcome: AccessOutcome
    actor_kind: AccessorKind
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
    requested: tuple[DataCategory, ...]
    returned: tuple[DataCategory, ...]
    denied: tuple[DataCategory, ...]
    """Asked for and refused: by the decision, or by the client's field allow-list."""
    withheld: tuple[DataCategory, ...]
    override_ground: OverrideGround | None
    """Set only when a professional's override (værdispring) lifted a block for this request."""
    override_reason: str | None
    operation_hash: str
    """SHA-256 of the GraphQL document, so the exact operation can be found again."""
    operation_name: str | None

    def __post_init__(self) -> None:
        for name, kind in _ENUM_FIELDS.items():
            if not isinstance(getattr(self, name), kind):
                raise TypeError(f"access record {name} must be a {kind.__name__}")
        for name in CATEGORY_FIELDS:
            if not all(isinstance(c, DataCategory) for c in getattr(self, name)):
                raise TypeError(f"access record {name} must hold DataCategory values")
        if self.override_ground is not None and not isinstance(self.override_ground, OverrideGround):
            raise TypeError("access record override_ground must be an OverrideGround")
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("access record time must be timezone-aware")


_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "activity": AccessActivity,
    "outcome": AccessOutcome,
    "actor_kind": AccessorKind,
}
CATEGORY_FIELDS = ("requested", "returned", "denied", "withheld")
"""The record's category lists."""
RECORD_FIELDS = tuple(f.name for f in fields(AccessRecord))
"""The record's fields in declaration order (the stores' column order)."""


@dataclass(frozen=True, slots=True)
class SinkRefusal:
    """A record the export sink will not take: its mapping failed, or the sink refused that entry.

    ``reason`` names what was wrong in the gateway's own words (a field, a status code, a FHIR issue
    code); it never holds personal data or upstream text.
    """

    record_id: str
    reason: str


AccessCursor = tuple[datetime, str]
"""A position in a patient's log, newest first: entries strictly older than ``(at, id)`` follow."""


@dataclass(frozen=True, slots=True)
class AccessLogPage:
    """One page of a patient's log as the store read it, newest first.

    ``records`` are the readable records among the rows of the page (a stored row outside the
    vocabulary is left out), while ``end`` and ``more`` come from the rows as read, so the next page
    starts right after this one whatever the rows held.
    """

    records: tuple[AccessRecord, ...]
    end: AccessCursor | None
    """The position of the page's last row (readable or not); ``None`` when the page read no row."""
    more: bool
    """Rows follow ``end``."""
