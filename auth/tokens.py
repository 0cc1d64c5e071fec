"""Verify inbound bearer tokens (JWT) with joserfc against the issuer's cached JWKS.

Checks: signature with a key from the issuer's key set (fetched over HTTP, cached for ``ttl_s`` and
refreshed once when a token names an unknown key), an algorithm allow-list (``alg: none`` and HMAC
are never accepted), ``iss``, ``aud``, ``exp`` (required) and ``nbf``/``iat`` when present.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from auth.actor import Actor, actor_from_claims
from auth.errors import AuthenticationFailed
from sources.errors import SourceError

DEFAULT_ALGORITHMS = ("RS256", "ES256")
_MIN_REFRESH_S = 5.0


class KeySetSource(Protocol):
    """Where the key set comes from (``sources.jwks.JwksSource``)."""

    async def key_set(self) -> dict[str, Any]: ...


class TokenVerifier:
    """Turns a bearer token into an :class:`Actor`, or raises :class:`AuthenticationFailed`."""

    def __init__(
        self,
        keys: KeySetSource,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        ttl_s: float = 300.0,
        leeway_s: int = 30,
    ) -> None:
        if any(a.lower() == "none" or a.upper().startswith("HS") for a in algorithms):
            raise ValueError("only asymmetric signature algorithms are accepted")
        self._keys = keys
        self._algorithms = list(algorithms)
        self._ttl_s = ttl_s
        self._registry = jwt.JWTClaimsRegistry(
            leeway=leeway_s,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )
        self._cached: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Actor:
        """Verify ``token`` and build the caller's actor."""
        key_set = await self._key_set(refresh=False)
        try:
            decoded = self._decode(token, key_set)
        except _UnknownKey:
            try:
                decoded = self._decode(token, await self._key_set(refresh=True))
            except _UnknownKey:
                raise AuthenticationFailed("token is signed with a key the issuer does not publish") from None
        try:
            self._registry.validate(decoded.claims)
        except ExpiredTokenError:
            raise AuthenticationFailed("token has expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            raise AuthenticationFailed(f"token claim {exc.claim!r} is missing or not accepted") from None
        except ClaimError:
            raise AuthenticationFailed("token claims are not accepted") from None
        return actor_from_claims(dict(decoded.claims))

    def _decode(self, token: str, key_set: KeySet) -> jwt.Token:
        try:
            return jwt.decode(token, key_set, algorithms=self._algorithms)
        except BadSignatureError:
            raise AuthenticationFailed("token signature is not valid") from None
        except InvalidKeyIdError:
            raise _UnknownKey from None
        except JoseError as exc:
            raise AuthenticationFailed(f"token is not accepted ({exc.error})") from None
        except (ValueError, TypeError):
            raise AuthenticationFailed("token is malformed") from None

    async def _key_set(self, *, refresh: bool) -> KeySet:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            # A refresh for an unknown key id is honoured at most every few seconds, so tokens with
            # invented key ids cannot make the gateway hammer the issuer.
            if self._cached is None or age > self._ttl_s or (refresh and age > _MIN_REFRESH_S):
                try:
                    document = await self._keys.key_set()
                    self._cached = KeySet.import_key_set(document)  # type: ignore[arg-type]
                except (SourceError, JoseError, ValueError) as exc:
                    if self._cached is None:
                        raise AuthenticationFailed("token issuer keys are unavailable") from exc
                self._fetched_at = time.monotonic()
            return self._cached


class _UnknownKey(Exception):
    """The token names a key the cached key set does not hold."""
