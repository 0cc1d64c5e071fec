"""The demo token issuer: signs tokens for sandbox personas and publishes its JWKS over HTTP.

- ``GET /.well-known/jwks.json``: the public key set (what the gateway verifies against);
- ``POST /token``: ``{"actor_kind": "citizen", "cpr": "…"}`` or
  ``{"actor_kind": "professional", "authorization_id": "…", "organisation_sor": "…"}``, optional
  ``"expires_in"`` seconds (default 3600) → ``{"access_token": "…", "token_type": "Bearer", …}``.

The signing key is made when the issuer starts and never leaves the process. It is a demo: it signs
for whoever asks, which a real identity provider (MitID, SEB/OIO) never does.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Population

AUDIENCE = "patientoverblik"


class Issuer:
    """Holds the signing key and issues tokens."""

    def __init__(self, population: Population, issuer_url: str) -> None:
        self.population = population
        self.issuer_url = issuer_url
        self.key = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex[:16], "use": "sig", "alg": "RS256"})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def issue(self, request: dict[str, Any]) -> str:
        """A signed token for the actor ``request`` describes; raises ``ValueError`` when it is not valid."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer_url,
            "aud": request.get("audience", AUDIENCE),
            "iat": now,
            "nbf": now,
            "exp": now + int(request.get("expires_in", 3600)),
            "jti": uuid.uuid4().hex,
            "azp": request.get("client_id", "patientoverblik-demo"),
            "scope": "patientoverblik",
        }
        kind = request.get("actor_kind")
        if kind == "citizen":
            cpr = str(request.get("cpr", ""))
            if not (len(cpr) == 10 and cpr.isdigit()):
                raise ValueError("a citizen token needs 'cpr': 10 digits")
            person = self.population.persons.get(cpr)
            claims |= {
                "actor_kind": "citizen",
                "sub": f"citizen-{uuid.uuid5(uuid.NAMESPACE_OID, cpr).hex[:12]}",
                "cpr": cpr,
            }
            if person is not None:
                claims["name"] = f"{person.given_name} {person.family_name}"
        elif kind == "professional":
            authorization_id = str(request.get("authorization_id", "")).upper()
            if len(authorization_id) != 5:
                raise ValueError("a professional token needs 'authorization_id': 5 characters")
            professional = self.population.professionals.get(authorization_id)
            sor = request.get("organisation_sor") or (professional.organisation_sor if professional else None)
            claims |= {
                "actor_kind": "professional",
                "sub": f"professional-{authorization_id}",
                "authorization_id": authorization_id,
                "organisation_sor": sor,
            }
            if professional is not None:
                claims["name"] = professional.name
        else:
            raise ValueError("'actor_kind' must be 'citizen' or 'professional'")
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)


def create_app(population: Population, issuer_url: str) -> tuple[Starlette, Issuer]:
    """The issuer's HTTP app and the issuer itself (tests sign with it directly)."""
    issuer = Issuer(population, issuer_url)

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(issuer.jwks(), headers={"cache-control": "max-age=300"})

    async def token(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise TypeError("body must be a JSON object")
            access_token = issuer.issue(body)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": "invalid_request", "error_description": str(exc)}, status_code=400)
        return JSONResponse(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": body.get("expires_in", 3600)}
        )

    async def personas(request: Request) -> JSONResponse:
        listed = []
        for key, cpr in population.personas.items():
            person = population.persons[cpr]
            listed.append({"persona": key, "name": f"{person.given_name} {person.family_name}", "cpr": cpr})
        professionals = [
            {"name": p.name, "authorization_id": p.authorization_id, "organisation_sor": p.organisation_sor}
            for p in population.professionals.values()
        ]
        return JSONResponse({"personas": listed, "professionals": professionals})

    routes = [
        Route("/.well-known/jwks.json", jwks),
        Route("/token", token, methods=["POST"]),
        Route("/personas", personas),
    ]
    return Starlette(routes=routes), issuer
