"""Credentials towards an upstream: OAuth2 client credentials and mutual TLS, per source (ADR 0020).

**Client credentials** (RFC 6749 §4.4). :class:`TokenProvider` asks the source's token endpoint for
an access token (``grant_type=client_credentials``, with ``scope`` when set), authenticating the
client with HTTP Basic (``client_secret_basic``, the default), in the form (``client_secret_post``)
or by its TLS client certificate alone (``tls_client_auth``, RFC 8705 §2). The token:

- is fetched through a :class:`~sources.base.SourceClient` of its own (named ``<source>.token``),
  so the fetch has a total deadline, a bounded body, a circuit breaker, a span and metrics like any
  upstream call, and its errors carry no text of the token endpoint;
- is validated (:class:`_TokenAnswer`): ``token_type`` must be ``Bearer`` (any case), the token
  printable ASCII of at most 8 KiB, ``expires_in`` (seconds) at most a day; an answer without
  ``expires_in`` is kept :data:`DEFAULT_LIFETIME_S`;
- is kept until shortly before it expires (:data:`EXPIRY_MARGIN_S`, at most a quarter of its life)
  and refreshed ahead of time: once less than ``refresh_ahead_s`` (at most half its life) is left,
  the next call starts one fetch in the background and goes on with the token it has. A call with
  no usable token waits for the one running fetch; concurrent calls never fetch twice;
- is dropped when the source answers ``401`` to it, so the next call fetches a new one;
- is never logged, never an attribute of a span, and hidden from ``repr``.

**Mutual TLS**: :class:`TlsFiles` names a CA bundle that verifies the source (instead of the system's
CAs), and the client certificate and key the gateway presents. :meth:`TlsFiles.ssl_context` builds
the context both transports (:mod:`sources.transport`) use, for the source and its token endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sources import clock
from sources.deadline import outside_request

if TYPE_CHECKING:
    from sources.base import SourceClient

DEFAULT_LIFETIME_S = 300.0
"""How long a token whose answer gives no ``expires_in`` is used."""
MAX_LIFETIME_S = 86_400.0
"""A longer ``expires_in`` is read as this (a day)."""
EXPIRY_MARGIN_S = 5.0
"""A token is not sent in the last seconds of its life (at most a quarter of it): it could expire on the way."""


class ClientAuthMethod(StrEnum):
    """How the gateway authenticates itself to a token endpoint (RFC 7591 ``token_endpoint_auth_method``)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 - a method name, not a secret
    """HTTP Basic with the form-encoded client id and secret (RFC 6749 §2.3.1)."""
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 - a method name, not a secret
    """``client_id`` and ``client_secret`` in the request body."""
    TLS_CLIENT_AUTH = "tls_client_auth"
    """The TLS client certificate authenticates; ``client_id`` in the body, no secret (RFC 8705 §2)."""


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """One source's OAuth2 client registration at its token endpoint."""

    token_url: str
    """The token endpoint (absolute ``https://`` URL in production)."""
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    """Required unless ``auth_method`` is ``tls_client_auth``."""
    scope: str | None = None
    """Space-separated scopes asked for (``None``: the endpoint's default)."""
    auth_method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC
    refresh_ahead_s: float = 60.0
    """Seconds before expiry at which a new token is fetched in the background."""

    def request(self) -> tuple[dict[str, str], dict[str, str]]:
        """The token request's form fields and headers."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        headers: dict[str, str] = {"accept": "application/json"}
        secret = self.client_secret or ""
        match self.auth_method:
            case ClientAuthMethod.CLIENT_SECRET_BASIC:
                pair = f"{quote_plus(self.client_id)}:{quote_plus(secret)}".encode()
                headers["authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            case ClientAuthMethod.CLIENT_SECRET_POST:
                form |= {"client_id": self.client_id, "client_secret": secret}
            case ClientAuthMethod.TLS_CLIENT_AUTH:
                form["client_id"] = self.client_id
        return form, headers


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Files of one source's TLS: who to trust, and the client certificate to present (mutual TLS)."""

    ca_bundle: str | None = None
    """PEM file of the CAs that verify the source (``None``: the system's)."""
    client_cert: str | None = None
    """PEM file of the client certificate (and its chain; it may hold the key too)."""
    client_key: str | None = None
    """PEM file of the client certificate's private key, when not in ``client_cert``."""
    client_key_password: str | None = field(default=None, repr=False)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context: TLS 1.2 or later, the source verified, the client certificate loaded.

        Raises ``OSError`` or ``ssl.SSLError`` for a missing or unreadable file (settings check first).
        """
        context = ssl.create_default_context(cafile=self.ca_bundle)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key, password=self.client_key_password)
        return context


class _TokenAnswer(BaseModel):
    """The token endpoint's answer (RFC 6749 §5.1, snake_case members); other members are ignored."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True, frozen=True)

    access_token: str = Field(min_length=1, max_length=8192, pattern=r"^[\x21-\x7e]+$")
    token_type: str = Field(max_length=64)
    expires_in: float | None = Field(default=None, gt=0)


@dataclass(slots=True)
class _Token:
    value: str = field(repr=False)
    refresh_at: float
    expires_at: float


class TokenProvider:
    """The current access token of one source, fetched with :class:`ClientCredentials` (see the module)."""

    def __init__(self, client: SourceClient, path: str, credentials: ClientCredentials) -> None:
        self.client = client
        """The token endpoint's client (closed with the source's)."""
        self._path = path
        self._credentials = credentials
        self._token: _Token | None = None
        self._running: asyncio.Task[None] | None = None
        self.fetches = 0
        """Fetches started so far (tests count them)."""

    async def token(self) -> str:
        """A usable access token; raises :class:`~sources.errors.SourceError` when none can be had."""
        now = clock.monotonic()
        current = self._token
        if current is not None and now < current.expires_at:
            if now >= current.refresh_at and self._running is None:
                self._start()
            return current.value
        running = self._running or self._start()
        await asyncio.shield(running)
        if self._token is None:
            raise self.client.invalid("no access token")  # unreachable: a failed fetch raised above
        return self._token.value

    def rejected(self, token: str) -> None:
        """The source answered 401 to ``token``: drop it, so the next call fetches another."""
        if self._token is not None and self._token.value == token:
            self._token = None

    async def aclose(self) -> None:
        """Stop a running fetch (on shutdown)."""
        if self._running is not None:
            self._running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._running

    def _start(self) -> asyncio.Task[None]:
        self.fetches += 1
        # Shared by every call waiting for a token: it runs under no request's deadline, only its own.
        task = asyncio.get_running_loop().create_task(self._fetch(), context=outside_request())
        self._running = task
        task.add_done_callback(_retrieve)
        return task

    async def _fetch(self) -> None:
        try:
            form, headers = self._credentials.request()
            # A client-credentials token request changes nothing at the issuer: safe to send again.
            answer = await self.client.post_form(self._path, form, headers=headers, replayable=True)
            try:
                token = _TokenAnswer.model_validate(answer)
            except ValidationError as exc:
                raise self.client.invalid("not a token answer") from exc
            if token.token_type.lower() != "bearer":
                raise self.client.invalid("not a bearer token")
            lifetime = min(token.expires_in or DEFAULT_LIFETIME_S, MAX_LIFETIME_S)
            now = clock.monotonic()
            ahead = min(self._credentials.refresh_ahead_s, lifetime / 2)
            margin = min(EXPIRY_MARGIN_S, lifetime / 4)
            self._token = _Token(token.access_token, now + lifetime - ahead, now + lifetime - margin)
        finally:
            self._running = None


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a background fetch's failure as seen (the next call tries again, or waits and gets it)."""
    if not task.cancelled():
        task.exception()
