"""Security events: what an anonymous or refused attempt leaves behind, for the operator (ADR 0007).

An attempt that is not an access (no token; an override from a caller who may not send one; a
malformed override) is not a line in the patient's Min Log: nothing the caller typed reaches the
patient's log or the national Min Log. A vendor system asking for fields outside its registration
(or with no registration) leaves an event too. The operator gets one :class:`SecurityEvent` per request
and kind instead, in the access-log database (table ``security_event``), never exported, never
shown to a citizen, listed with ``patientoverblik security-events``.

An event is bounded and holds nothing the caller typed: the kind, the caller's non-personal
identity (:attr:`auth.actor.Actor.identity`), the client, how many patients the request named, and
the SHA-256 of the operation — no CPR number, no name, no reason text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sources.audit import ActorKind


class SecurityEventKind(StrEnum):
    """Why a request left a security event."""

    UNAUTHENTICATED = "unauthenticated"
    """A request without a token named patients; it was refused before any decision or source call."""
    OVERRIDE_NOT_ALLOWED = "override_not_allowed"
    """An override (værdispring) from a caller who may not send one (citizen, representative, assistant)."""
    OVERRIDE_MALFORMED = "override_malformed"
    """An override whose ground or reason could not be accepted."""
    CLIENT_NOT_REGISTERED = "client_not_registered"
    """A vendor system whose client is not registered asked for fields (it may select none)."""
    FIELD_NOT_ALLOWED = "field_not_allowed"
    """A registered vendor system asked for fields its registration does not allow."""
    PATIENT_KEY_INVALID = "patient_key_invalid"
    """Federation representations whose patient key did not open: forged, altered or another deployment's."""


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One request's refused attempt of one kind."""

    id: str
    at: datetime
    """When, aware UTC."""
    request_id: str
    kind: SecurityEventKind
    actor_kind: ActorKind
    actor: str
    """The caller's non-personal identity (``anonymous``, ``citizen:<token subject>``, …)."""
    client_id: str | None
    patients: int
    """How many patients the attempt named (the numbers are not kept)."""
    operation_hash: str
    """SHA-256 of the GraphQL document."""


SECURITY_EVENT_COLUMNS = (
    "id",
    "at",
    "request_id",
    "kind",
    "actor_kind",
    "actor",
    "client_id",
    "patients",
    "operation_hash",
)
"""The ``security_event`` table's columns, in :class:`SecurityEvent`'s order."""


def security_event_values(event: SecurityEvent) -> tuple[object, ...]:
    """The event's column values in :data:`SECURITY_EVENT_COLUMNS` order (``at`` as given)."""
    return tuple(
        value.value if isinstance(value, StrEnum) else value
        for value in (getattr(event, name) for name in SECURITY_EVENT_COLUMNS)
    )


@dataclass(frozen=True, slots=True)
class UnreadableSecurityEvent:
    """A stored security event this version cannot read, as the operator still sees it listed.

    ``reason`` names the column that could not be read, never its value; ``at`` is ``None`` when the
    time itself cannot be read.
    """

    id: str
    at: datetime | None
    reason: str


ListedSecurityEvent = SecurityEvent | UnreadableSecurityEvent
"""What the operator's listing gives for one stored row: the event, or why it cannot be read."""


def security_event_from_row(row: Sequence[object], at: datetime | None) -> ListedSecurityEvent:
    """The event of one row (``at`` already read, ``None`` when it could not be), whatever the row holds."""
    values = dict(zip(SECURITY_EVENT_COLUMNS, row, strict=True))
    event_id = str(values["id"])
    if at is None:
        return UnreadableSecurityEvent(event_id, None, "stored event has an unreadable time")
    try:
        kind = SecurityEventKind(str(values["kind"]))
    except ValueError:
        return UnreadableSecurityEvent(event_id, at, "stored event has a value outside the vocabulary in kind")
    try:
        actor_kind = ActorKind(str(values["actor_kind"]))
    except ValueError:
        return UnreadableSecurityEvent(event_id, at, "stored event has a value outside the vocabulary in actor_kind")
    patients = values["patients"]
    if not isinstance(patients, int) or isinstance(patients, bool):
        return UnreadableSecurityEvent(event_id, at, "stored event has an unreadable patients count")
    return SecurityEvent(
        id=event_id,
        at=at,
        request_id=str(values["request_id"]),
        kind=kind,
        actor_kind=actor_kind,
        actor=str(values["actor"]),
        client_id=None if values["client_id"] is None else str(values["client_id"]),
        patients=patients,
        operation_hash=str(values["operation_hash"]),
    )
