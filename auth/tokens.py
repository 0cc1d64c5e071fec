"""Verify inbound bearer tokens (JWT) with joserfc against the issuer's key set.

Checks: the token's algorithm is on the allow-list (``alg: none`` and HMAC are never accepted); the
signature verifies with one of the issuer's usable keys (``auth/keys.py``: every key with the token's
``kid``, or every key when it names none, that fits the algorithm; keys the gateway cannot use are
skipped one by one); ``iss``, ``aud``, ``exp`` (required) and ``nbf``/``iat`` when present.

The key set comes through :class:`~auth.key_cache.KeyCache` (stale-while-revalidate, one fetch at a
time, bounded waits). Every failure is :class:`AuthenticationFailed` (HTTP 401), whose message holds
no token or key contents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, assert_never

from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key

from auth.actor import Actor, actor_from_claims
from auth.errors import AuthenticationFailed
from auth.key_cache import KeyCache, KeyCachePolicy, Refresh
from auth.keys import SkipReason, UsableKeys, usable_keys

DEFAULT_ALGORITHMS = ("RS256", "ES256")


class KeySetSource(Protocol):
    """Where the key set comes from (``sources.jwks.JwksSource``); raises ``SourceError`` on failure."""

    async def key_set(self) -> Mapping[str, Any]: ...


def check_algorithms(algorithms: Sequence[str]) -> tuple[str, ...]:
    """``algorithms`` when each is an asymmetric signature algorithm joserfc knows; ``ValueError`` otherwise.

    The one check, for the settings (``PATIENTOVERBLIK_TOKEN_ALGORITHMS``) and the verifier alike.
    """
    if any(a.lower() == "none" or a.upper().startswith("HS") for a in algorithms):
        raise ValueError("only asymmetric signature algorithms are accepted")
    unknown = [a for a in algorithms if a not in jws.JWSRegistry.algorithms]
    if unknown:
        raise ValueError(f"unknown signature algorithms: {unknown}")
    return tuple(algorithms)


class TokenVerifier:
    """Turns a bearer token into an :class:`Actor`, or raises :class:`AuthenticationFailed`."""

    def __init__(
        self,
        keys: KeySetSource,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        cache: KeyCachePolicy | None = None,
        leeway_s: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = keys
        self._algorithms = check_algorithms(algorithms)
        self._registry = jwt.JWTClaimsRegistry(
            leeway=leeway_s,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )
        self.keys = KeyCache(self._fetch, cache or KeyCachePolicy(), clock=clock)
        """The key set cache (its ``fetches`` and ``keys`` are what tests and operators read)."""

    @property
    def skipped_keys(self) -> Mapping[SkipReason, int]:
        """How many members of the cached key set are not used, by reason (empty before a fetch)."""
        cached = self.keys.keys
        return cached.skipped if cached is not None else {}

    async def aclose(self) -> None:
        """Stop a running key set fetch (on shutdown)."""
        await self.keys.aclose()

    async def verify(self, token: str) -> Actor:
        """Verify ``token`` and build the caller's actor."""
        algorithm, kid = self._header(token)
        candidates = (await self.keys.current()).candidates(algorithm, kid)
        if not candidates:
            lookup = await self.keys.after_unknown_key()
            candidates = lookup.keys.candidates(algorithm, kid)
            if not candidates:
                raise AuthenticationFailed(unknown_key_reason(lookup.refresh))
        decoded = self._decode(token, algorithm, candidates)
        try:
            self._registry.validate(decoded.claims)
        except ExpiredTokenError:
            raise AuthenticationFailed("token has expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            raise AuthenticationFailed(f"token claim {exc.claim!r} is missing or not accepted") from None
        except ClaimError:
            raise AuthenticationFailed("token claims are not accepted") from None
        return actor_from_claims(dict(decoded.claims))

    def _header(self, token: str) -> tuple[str, str | None]:
        """The token's algorithm (on the allow-list) and key id, from its protected header."""
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise AuthenticationFailed("token is malformed") from None
        if not isinstance(header, dict):
            raise AuthenticationFailed("token is malformed")
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise AuthenticationFailed("token is not accepted (its algorithm is not allowed)")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationFailed("token is malformed")
        return algorithm, kid

    def _decode(self, token: str, algorithm: str, candidates: list[Key]) -> jwt.Token:
        """The token verified with the first candidate key whose signature matches."""
        for key in candidates:
            try:
                return jwt.decode(token, key, algorithms=[algorithm])
            except BadSignatureError:
                continue
            except JoseError as exc:
                raise AuthenticationFailed(f"token is not accepted ({exc.error})") from None
            except (ValueError, TypeError):
                raise AuthenticationFailed("token is malformed") from None
        raise AuthenticationFailed("token signature is not valid")

    async def _fetch(self) -> UsableKeys:
        return usable_keys(await self._source.key_set(), self._algorithms)


def unknown_key_reason(refresh: Refresh) -> str:
    """Why a token signed with a key the gateway does not hold is refused, by what its fetch found."""
    match refresh:
        case Refresh.FETCHED:
            return "token is signed with a key the issuer does not publish"
        case Refresh.FAILED:
            return "token is signed with a key the gateway does not hold, and the issuer's keys could not be fetched"
        case Refresh.NOT_TRIED:
            return "token is signed with a key the issuer did not publish when its keys were last fetched"
        case _:
            assert_never(refresh)
