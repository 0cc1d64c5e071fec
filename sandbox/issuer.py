"""The demo token issuer: signs tokens for sandbox personas and publishes its JWKS over HTTP.

- ``GET /.well-known/jwks.json``: the public key set (what the gateway verifies against);
- ``POST /token`` with one of (``docs/sandbox.md``, "Tokens"):
  - ``{"actor_kind": "citizen", "cpr": "…"}``;
  - ``{"actor_kind": "professional", "authorization_id": "…"}``, optional ``"organisation_sor"``;
  - ``{"actor_kind": "assistant", "assistant_id": "…", "authorization_id": "…"}``: a professional
    token for the responsible professional, carrying the assistant (medhjælp) at the keyboard;
  - ``{"actor_kind": "system", "client_id": "…", "authorization_id": "…"}``: a vendor system and the
    professional using it;

  each with an optional ``"expires_in"`` (seconds, default 3600) → ``{"access_token": "…",
  "token_type": "Bearer", …}``. The claims of each kind are in :mod:`sandbox.claims`;
- ``GET /personas``: the personas, professionals, assistants, demo vendor clients, powers of attorney
  and CPR's custody and guardianship relations, to ask tokens for (the web page's persona picker);
- ``GET|PUT /_sandbox/keys``, ``POST /_sandbox/keys/rotate``: key set knobs (:mod:`sandbox.odd_keys`):
  extra keys published *before* the signing keys (names of odd keys, or JWK objects), and a
  rotation to a new signing key that keeps the old one published;
- ``POST /oauth2/token`` and ``/_sandbox/upstream-tokens``: the gateway's own client-credentials
  tokens towards the sources (:mod:`sandbox.upstream_tokens`).

The signing key is made when the issuer starts and never leaves the process. It is a demo: it signs
for whoever asks, which a real identity provider (MitID, SEB/OIO) never does. ``/token`` and
``/personas`` answer browsers from any origin (CORS, no credentials), so the gateway's web page can
sign in from its own origin as a single-page app does with an identity provider's token endpoint
(ADR 0015).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.claims import DEMO_CLIENT, VENDOR_CLIENTS, actor_claims
from sandbox.odd_keys import odd_key
from sandbox.population import Population
from sandbox.upstream_tokens import UpstreamTokens

AUDIENCE = "patientoverblik"


class Issuer:
    """Holds the signing key and issues tokens."""

    def __init__(self, population: Population, issuer_url: str) -> None:
        self.population = population
        self.issuer_url = issuer_url
        self.key = _signing_key()
        self.retired: list[RSAKey] = []
        """Earlier signing keys, still published after a rotation."""
        self.extra_keys: list[dict[str, Any]] = []
        """Keys published before the signing keys (a knob: odd keys the gateway must skip)."""
        self.upstream_tokens = UpstreamTokens()
        """The gateway's own client-credentials tokens towards the sources (:mod:`sandbox.upstream_tokens`)."""

    def jwks(self) -> dict[str, Any]:
        """The public key set: the extra keys, then the signing key, then the retired ones."""
        signing = [k.as_dict(private=False) for k in (self.key, *self.retired)]
        return {"keys": [*self.extra_keys, *signing]}

    def rotate(self) -> str:
        """Sign with a new key from now on; the old one stays published. Returns the new ``kid``."""
        self.retired.insert(0, self.key)
        self.key = _signing_key()
        return str(self.key.kid)

    def set_extra_keys(self, extra: list[Any]) -> None:
        """Publish ``extra`` (odd key names from :mod:`sandbox.odd_keys`, or JWK objects) first."""
        self.extra_keys = [odd_key(item, str(self.key.kid)) if isinstance(item, str) else item for item in extra]

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
            "azp": request.get("client_id", DEMO_CLIENT),
            "scope": "patientoverblik",
        }
        claims |= actor_claims(self.population, request)
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
        return JSONResponse(directory(population))

    async def keys(request: Request) -> JSONResponse:
        if request.method == "PUT":
            try:
                body = json.loads(await request.body())
                extra = body.get("extra", []) if isinstance(body, dict) else None
                if not isinstance(extra, list) or not all(isinstance(k, str | dict) for k in extra):
                    raise TypeError('expected {"extra": [name or JWK object, ...]}')
                issuer.set_extra_keys(extra)
            except (ValueError, TypeError, KeyError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"extra": issuer.extra_keys, "signing_kid": issuer.key.kid})

    async def rotate(request: Request) -> JSONResponse:
        return JSONResponse({"signing_kid": issuer.rotate()})

    routes = [
        Route("/.well-known/jwks.json", jwks),
        Route("/token", token, methods=["POST"]),
        Route("/personas", personas),
        Route("/_sandbox/keys", keys, methods=["GET", "PUT"]),
        Route("/_sandbox/keys/rotate", rotate, methods=["POST"]),
        Route("/oauth2/token", issuer.upstream_tokens.token_endpoint, methods=["POST"]),
        Route("/_sandbox/upstream-tokens", issuer.upstream_tokens.control, methods=["GET", "PUT", "DELETE"]),
    ]
    cors = Middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["content-type"]
    )
    return Starlette(routes=routes, middleware=[cors]), issuer


def _signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex[:16], "use": "sig", "alg": "RS256"})


def directory(population: Population) -> dict[str, list[dict[str, Any]]]:
    """Who the demo can sign tokens for (``GET /personas``), and whom each citizen may act for.

    ``relations`` lists CPR's custody (forældremyndighed) and guardianship (værgemål) links as
    ``{"kind": "custody" | "guardianship", "holder_cpr", "subject_cpr"}``; powers of attorney are in
    ``powers_of_attorney``. Whether a relation still gives access (a child turning 15) is the
    gateway's decision, not this listing's.
    """
    listed = []
    for key, cpr in population.personas.items():
        person = population.persons[cpr]
        listed.append({"persona": key, "name": f"{person.given_name} {person.family_name}", "cpr": cpr})
    professionals = population.professionals.values()
    return {
        "personas": listed,
        "professionals": [
            {
                "name": p.name,
                "authorization_id": p.authorization_id,
                "profession": p.profession,
                "organisation_sor": p.organisation_sor,
                "organisation_name": p.organisation_name,
            }
            for p in professionals
        ],
        "assistants": [
            {"assistant_id": assistant_id, "name": name, "acting_for": p.authorization_id}
            for p in professionals
            for assistant_id, name in p.assistants.items()
        ],
        "vendor_clients": [{"client_id": client_id, "name": name} for client_id, name in VENDOR_CLIENTS.items()],
        "powers_of_attorney": [
            {
                "id": power.id,
                "giver_cpr": power.giver_cpr,
                "holder_cpr": power.holder_cpr,
                "scopes": list(power.scopes),
                "valid_from": power.valid_from.isoformat() if power.valid_from else None,
                "valid_to": power.valid_to.isoformat() if power.valid_to else None,
            }
            for power in population.powers_of_attorney
        ],
        "relations": [
            {"kind": kind, "holder_cpr": holder, "subject_cpr": person.cpr}
            for person in population.persons.values()
            for kind, holders in (("custody", person.custody_holders), ("guardianship", person.guardians))
            for holder in holders
        ],
    }
