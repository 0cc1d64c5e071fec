"""The actor claims the demo token issuer signs, one function per kind of token request.

The gateway's ``auth/actor.py`` reads exactly these claims:

- citizen: ``actor_kind="citizen"``, ``cpr``, ``name``;
- professional: ``actor_kind="professional"``, ``authorization_id``, ``organisation_sor``,
  ``organisation_name``, ``profession``, ``name``; when an assistant (medhjælp) acts on the
  professional's responsibility (HSUID ActingUser vs ResponsibleUser) also ``assistant_id`` and
  ``assistant_name``;
- system (a vendor EPJ/EOJ with client credentials): ``actor_kind="system"``, ``azp`` and
  ``client_id``, and the acting professional's claims as above.

A claim the sandbox cannot fill (a professional it does not know) is left out, never sent as null.
Messages of the ``ValueError`` raised for a bad request hold no data from it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.population import Population

DEMO_CLIENT = "patientoverblik-demo"
"""The ``azp`` of citizen and professional tokens: the demo front end."""
VENDOR_CLIENTS: dict[str, str] = {"epj-odense": "EPJ Odense (demo)"}
"""The demo vendor systems (client ID → name). The issuer signs for any well-formed client ID; what a
client may read is the gateway's configuration (its field allow-list)."""

_CPR = re.compile(r"[0-9]{10}")
_SOR = re.compile(r"[0-9]{6,18}")
_CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")


def actor_claims(population: Population, request: dict[str, Any]) -> dict[str, Any]:
    """The actor claims for a token request; raises ``ValueError`` when the request is not valid."""
    kind = request.get("actor_kind")
    if kind == "citizen":
        return citizen_claims(population, request)
    if kind == "professional":
        return professional_claims(population, request)
    if kind == "assistant":
        return assistant_claims(population, request)
    if kind == "system":
        return system_claims(population, request)
    raise ValueError("'actor_kind' must be 'citizen', 'professional', 'assistant' or 'system'")


def citizen_claims(population: Population, request: dict[str, Any]) -> dict[str, Any]:
    """A citizen acting for themself (or, through the gateway, for those they represent)."""
    cpr = request.get("cpr")
    if not isinstance(cpr, str) or not _CPR.fullmatch(cpr):
        raise ValueError("a citizen token needs 'cpr': 10 digits")
    person = population.persons.get(cpr)
    claims = {
        "actor_kind": "citizen",
        "sub": f"citizen-{uuid.uuid5(uuid.NAMESPACE_OID, cpr).hex[:12]}",
        "cpr": cpr,
        "name": f"{person.given_name} {person.family_name}" if person else None,
    }
    return _filled(claims)


def professional_claims(population: Population, request: dict[str, Any]) -> dict[str, Any]:
    """An authorised health professional at the keyboard."""
    claims = _professional(population, request)
    return {"actor_kind": "professional", "sub": f"professional-{claims['authorization_id']}", **claims}


def assistant_claims(population: Population, request: dict[str, Any]) -> dict[str, Any]:
    """An assistant (medhjælp) at the keyboard, acting on a registered professional's responsibility."""
    assistant_id = request.get("assistant_id")
    if not isinstance(assistant_id, str) or not _USER_ID.fullmatch(assistant_id):
        raise ValueError("an assistant token needs 'assistant_id'")
    claims = _professional(population, request)
    professional = population.professionals.get(claims["authorization_id"])
    name = professional.assistants.get(assistant_id) if professional else None
    if name is None:
        raise ValueError("'assistant_id' is not an assistant of the professional 'authorization_id' names")
    return {
        "actor_kind": "professional",
        "sub": f"assistant-{assistant_id}",
        **claims,
        "assistant_id": assistant_id,
        "assistant_name": name,
    }


def system_claims(population: Population, request: dict[str, Any]) -> dict[str, Any]:
    """A vendor system (EPJ/EOJ) with client credentials, and the professional using it."""
    client_id = request.get("client_id")
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise ValueError("a system token needs 'client_id': 3-64 lowercase letters, digits, '.', '_' or '-'")
    claims = _professional(population, request)
    return {"actor_kind": "system", "sub": f"system-{client_id}", "azp": client_id, "client_id": client_id, **claims}


def _professional(population: Population, request: dict[str, Any]) -> dict[str, Any]:
    """The responsible professional's claims; the request may name another organisation (SOR)."""
    raw = request.get("authorization_id")
    authorization_id = raw.upper() if isinstance(raw, str) else ""
    if len(authorization_id) != 5 or not authorization_id.isalnum():
        raise ValueError("the token needs 'authorization_id': 5 characters")
    asked_sor = request.get("organisation_sor")
    if asked_sor is not None and not (isinstance(asked_sor, str) and _SOR.fullmatch(asked_sor)):
        raise ValueError("'organisation_sor' must be a SOR code")
    professional = population.professionals.get(authorization_id)
    sor = asked_sor or (professional.organisation_sor if professional else None)
    if professional is not None and sor == professional.organisation_sor:
        organisation_name: str | None = professional.organisation_name
    else:
        organisation = population.clinical.organisations.get(sor or "")
        organisation_name = organisation.name if organisation else None
    claims = {
        "authorization_id": authorization_id,
        "organisation_sor": sor,
        "organisation_name": organisation_name,
        "profession": professional.profession if professional else None,
        "name": professional.name if professional else None,
    }
    return _filled(claims)


def _filled(claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` without the ones the sandbox could not fill."""
    return {key: value for key, value in claims.items() if value is not None}
