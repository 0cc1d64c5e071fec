"""Who is calling: the verified token turned into one :class:`Actor`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from auth.errors import AuthenticationFailed


class ActorKind(StrEnum):
    """The kinds of caller the gateway knows."""

    ANONYMOUS = "anonymous"
    CITIZEN = "citizen"
    PROFESSIONAL = "professional"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of one request, as established from a verified token."""

    kind: ActorKind
    subject: str = ""
    cpr: str | None = None
    """The citizen's own CPR number (citizens)."""
    authorization_id: str | None = None
    """Autorisations-ID from Styrelsen for Patientsikkerhed (professionals)."""
    organisation_sor: str | None = None
    """The SOR ID of the professional's organisation."""
    name: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def identity(self) -> str:
        """A stable, non-personal label for logs and records (never a CPR number)."""
        if self.kind is ActorKind.PROFESSIONAL:
            return f"professional:{self.authorization_id}"
        if self.kind is ActorKind.CITIZEN:
            return f"citizen:{self.subject}"
        return "anonymous"


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
    }
    if kind is ActorKind.CITIZEN:
        cpr = _optional_str(claims, "cpr")
        if cpr is None or not (len(cpr) == 10 and cpr.isdigit()):
            raise AuthenticationFailed("citizen token needs a cpr claim of 10 digits")
        return Actor(kind, cpr=cpr, **common)
    if kind is ActorKind.PROFESSIONAL:
        authorization_id = _optional_str(claims, "authorization_id")
        if authorization_id is None or len(authorization_id) != 5:
            raise AuthenticationFailed("professional token needs a 5-character authorization_id claim")
        return Actor(
            kind,
            authorization_id=authorization_id.upper(),
            organisation_sor=_optional_str(claims, "organisation_sor"),
            **common,
        )
    raise AuthenticationFailed("token actor_kind is not accepted")


def _optional_str(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value if isinstance(value, str) and value else None
