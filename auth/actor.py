"""Who is calling: the verified token turned into one :class:`Actor`.

Token claims (the demo issuer signs exactly these; a real identity provider maps its own):

- citizen: ``actor_kind=citizen``, ``cpr``, ``name``. Whether the citizen may act for *another*
  patient (power of attorney, custody, guardianship) is not in the token: the gate looks it up in
  the sources for every request;
- professional: ``actor_kind=professional``, ``authorization_id`` (autorisations-ID),
  ``organisation_sor``, ``organisation_name``, ``profession``, ``name``; plus ``assistant_id`` and
  ``assistant_name`` when an assistant (medhjælp) acts for that responsible professional (HSUID's
  ActingUser vs ResponsibleUser);
- system: ``actor_kind=system``, the client (``azp``/``client_id``) and the acting professional's
  claims as above. What a system may select is its client registration's field allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, assert_never

from auth.errors import AuthenticationFailed
from sources.audit import ActorKind

__all__ = ["ANONYMOUS", "Actor", "ActorKind", "Assistant", "actor_from_claims"]

_ASSISTANT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Assistant:
    """An assistant (medhjælp) acting for the responsible professional of the token."""

    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of one request, as established from a verified token."""

    kind: ActorKind
    subject: str = ""
    cpr: str | None = None
    """The citizen's own CPR number (citizens)."""
    authorization_id: str | None = None
    """Autorisations-ID: the professional's own, the responsible one's (assistants), the acting one's (systems)."""
    organisation_sor: str | None = None
    """The SOR ID of the professional's organisation."""
    organisation_name: str | None = None
    profession: str | None = None
    """The professional's profession in Danish (læge, sygeplejerske …)."""
    name: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    assistant: Assistant | None = None
    expires_at: datetime | None = None
    """When the token expires (its ``exp``, aware UTC): a subscription ends then (ADR 0023)."""

    @property
    def is_clinical(self) -> bool:
        """A professional, an assistant or a system acting for a professional: decided by treatment relation."""
        return self.kind in (ActorKind.PROFESSIONAL, ActorKind.SYSTEM)

    @property
    def identity(self) -> str:
        """A stable, non-personal label for logs and records (never a CPR number)."""
        match self.kind:
            case ActorKind.SYSTEM:
                return f"system:{self.client_id}:{self.authorization_id}"
            case ActorKind.PROFESSIONAL if self.assistant is not None:
                return f"assistant:{self.assistant.id}:{self.authorization_id}"
            case ActorKind.PROFESSIONAL:
                return f"professional:{self.authorization_id}"
            case ActorKind.CITIZEN:
                return f"citizen:{self.subject}"
            case ActorKind.ANONYMOUS:
                return "anonymous"
            case _:
                assert_never(self.kind)


ANONYMOUS = Actor(ActorKind.ANONYMOUS)


def actor_from_claims(claims: dict[str, Any]) -> Actor:
    """Build the actor from verified token claims, or raise :class:`AuthenticationFailed`."""
    try:
        kind = ActorKind(str(claims.get("actor_kind")))
    except ValueError:
        raise AuthenticationFailed("token has no valid actor_kind claim") from None
    common: dict[str, Any] = {
        "subject": str(claims.get("sub", "")),
        "name": _optional_str(claims, "name"),
        "client_id": _optional_str(claims, "azp") or _optional_str(claims, "client_id"),
        "scopes": frozenset(str(claims.get("scope", "")).split()),
        "expires_at": _instant(claims.get("exp")),
    }
    if kind is ActorKind.CITIZEN:
        cpr = _optional_str(claims, "cpr")
        if cpr is None or not (len(cpr) == 10 and cpr.isdigit()):
            raise AuthenticationFailed("citizen token needs a cpr claim of 10 digits")
        return Actor(kind, cpr=cpr, **common)
    if kind in (ActorKind.PROFESSIONAL, ActorKind.SYSTEM):
        return _clinical(kind, claims, common)
    raise AuthenticationFailed("token actor_kind is not accepted")


def _clinical(kind: ActorKind, claims: dict[str, Any], common: dict[str, Any]) -> Actor:
    authorization_id = _optional_str(claims, "authorization_id")
    if authorization_id is None or len(authorization_id) != 5 or not authorization_id.isalnum():
        raise AuthenticationFailed(f"{kind.value} token needs a 5-character authorization_id claim")
    if kind is ActorKind.SYSTEM and common["client_id"] is None:
        raise AuthenticationFailed("system token needs a client_id (azp) claim")
    assistant = None
    assistant_id = _optional_str(claims, "assistant_id")
    if assistant_id is not None:
        if kind is ActorKind.SYSTEM or not _ASSISTANT_ID.match(assistant_id):
            raise AuthenticationFailed("assistant_id claim is not accepted")
        assistant = Assistant(assistant_id, _optional_str(claims, "assistant_name"))
    return Actor(
        kind,
        authorization_id=authorization_id.upper(),
        organisation_sor=_optional_str(claims, "organisation_sor"),
        organisation_name=_optional_str(claims, "organisation_name"),
        profession=_optional_str(claims, "profession"),
        assistant=assistant,
        **common,
    )


def _instant(value: object) -> datetime | None:
    """A NumericDate claim (seconds since the epoch, RFC 7519 §2) as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _optional_str(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value if isinstance(value, str) and value else None
