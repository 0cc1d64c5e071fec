"""The national services' token endpoint, simulated: OAuth2 client credentials for the gateway itself.

Real national services take a token the gateway gets for itself (RFC 6749 §4.4, client credentials)
rather than one static secret. The demo issuer serves:

- ``POST /oauth2/token`` with a form body ``grant_type=client_credentials`` (and an optional
  ``scope``), the client authenticated by HTTP Basic (``client_secret_basic``) or by ``client_id`` and
  ``client_secret`` in the form (``client_secret_post``) → ``{"access_token", "token_type": "Bearer",
  "expires_in", "scope"}``; an unknown client or wrong secret is ``401 invalid_client``, another grant
  ``400 unsupported_grant_type`` (RFC 6749 §5.2). The registered clients are :data:`CLIENTS`;
- ``GET|PUT /_sandbox/upstream-tokens``: ``{"expires_in": seconds}`` sets the lifetime of the tokens
  issued from then on (default 300); ``DELETE`` revokes every token issued so far (a service that
  forgot them), so the next request with one is ``401``.

A source requires such a token when its ``require_token`` knob is on (:mod:`sandbox.control`): any
request without a valid, unexpired one is ``401`` with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

CLIENTS = {"patientoverblik": "sandbox-secret"}
"""Client id → secret of the clients the token endpoint knows (the gateway's sandbox registration)."""
DEFAULT_LIFETIME_S = 300


class UpstreamTokens:
    """The tokens the token endpoint issued, with their expiry (monotonic seconds)."""

    def __init__(self, clients: dict[str, str] | None = None) -> None:
        self.clients = dict(CLIENTS if clients is None else clients)
        self.lifetime_s = DEFAULT_LIFETIME_S
        self.issued: dict[str, float] = {}

    def issue(self) -> str:
        """A new token valid for :attr:`lifetime_s`."""
        token = secrets.token_urlsafe(32)
        self.issued[token] = time.monotonic() + self.lifetime_s
        return token

    def valid(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries a token issued here that has not expired."""
        scheme, _, token = (authorization or "").partition(" ")
        expires = self.issued.get(token.strip()) if scheme.lower() == "bearer" else None
        return expires is not None and time.monotonic() < expires

    def revoke_all(self) -> None:
        self.issued.clear()

    async def token_endpoint(self, request: Request) -> Response:
        """``POST /oauth2/token`` (see the module)."""
        form = dict(parse_qsl((await request.body()).decode(errors="replace"), keep_blank_values=True))
        client = _basic(request.headers.get("authorization")) or (form.get("client_id"), form.get("client_secret"))
        if client[0] is None or self.clients.get(client[0]) != client[1]:
            return _error(401, "invalid_client", {"www-authenticate": 'Basic realm="sandbox"'})
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type")
        answer = {"access_token": self.issue(), "token_type": "Bearer", "expires_in": self.lifetime_s}
        if form.get("scope"):
            answer["scope"] = form["scope"]
        return JSONResponse(answer, headers={"cache-control": "no-store"})

    async def control(self, request: Request) -> Response:
        """``GET|PUT|DELETE /_sandbox/upstream-tokens`` (see the module)."""
        if request.method == "DELETE":
            self.revoke_all()
        elif request.method == "PUT":
            try:
                lifetime = json.loads(await request.body())["expires_in"]
                if not isinstance(lifetime, int) or lifetime < 1:
                    raise ValueError("expires_in must be a positive integer")
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            self.lifetime_s = lifetime
        return JSONResponse({"expires_in": self.lifetime_s, "issued": len(self.issued)})


def _basic(header: str | None) -> tuple[str | None, str | None] | None:
    """The client id and secret of an HTTP Basic header (form-encoded, RFC 6749 §2.3.1), or ``None``."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return (None, None)
    client_id, _, secret = pair.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def _error(status: int, error: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers={"cache-control": "no-store", **(headers or {})})
