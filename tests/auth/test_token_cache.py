"""A token's signature is checked once while the key that verified it is held (ADR 0027); every other
check still runs on every request. Counted in signature checks, never timed."""

from __future__ import annotations

import time
from typing import Any
from unittest.mock import patch

import pytest
from joserfc import jwt
from joserfc.jwk import Key

from auth.errors import AuthenticationFailed
from auth.key_cache import KeyCachePolicy
from auth.tokens import TokenVerifier
from tests.auth.test_tokens_key_sets import HANS, ISSUER, RSA_POOL, Document, public

SIGNER, OTHER = RSA_POOL[0], RSA_POOL[1]


def signed(key: Key = SIGNER, kid: str | None = "k1", **claims: Any) -> str:
    header = {"alg": "RS256"} | ({"kid": kid} if kid is not None else {})
    body = {
        "iss": ISSUER,
        "aud": "patientoverblik",
        "exp": int(time.time()) + 600,
        "actor_kind": "citizen",
        "cpr": HANS,
    }
    return jwt.encode(header, body | claims, key)


class Clock:
    """The key cache's clock, moved by hand: past ``max_age_s`` the next request waits for a fresh key set."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def past_max_age(self) -> None:
        self.now += KeyCachePolicy().max_age_s + 1


def verifier(*keys: Key, clock: Clock | None = None) -> tuple[TokenVerifier, Document]:
    document = Document({"keys": [public(key, kid="k1") for key in keys]})
    gateway = TokenVerifier(document, issuer=ISSUER, audience="patientoverblik", clock=clock or Clock())
    return gateway, document


async def test_the_same_token_has_its_signature_checked_once() -> None:
    gateway, _ = verifier(SIGNER)
    token = signed()

    actors = [await gateway.verify(token) for _ in range(3)]

    assert gateway.signature_checks == 1
    assert actors[0] == actors[1] == actors[2] and actors[0].cpr == HANS


async def test_another_token_is_checked_even_with_the_same_claims() -> None:
    gateway, _ = verifier(SIGNER)
    await gateway.verify(signed())
    await gateway.verify(signed(kid=None))

    with pytest.raises(AuthenticationFailed):
        await gateway.verify(signed(OTHER))  # the same claims signed by a key the issuer does not publish
    assert gateway.signature_checks == 3


async def test_a_token_that_expired_since_its_signature_was_checked_is_refused() -> None:
    gateway, _ = verifier(SIGNER)
    token = signed(exp=int(time.time()) + 60)
    await gateway.verify(token)

    with patch("time.time", return_value=time.time() + 3600), pytest.raises(AuthenticationFailed, match="expired"):
        await gateway.verify(token)
    assert gateway.signature_checks == 1


async def test_a_key_the_issuer_no_longer_publishes_verifies_no_token_it_verified_before() -> None:
    clock = Clock()
    gateway, document = verifier(SIGNER, clock=clock)
    token = signed()
    await gateway.verify(token)

    document.document = {"keys": [public(OTHER, kid="k1")]}
    clock.past_max_age()
    with pytest.raises(AuthenticationFailed):
        await gateway.verify(token)
    assert gateway.signature_checks == 2


async def test_a_fetched_key_set_has_every_token_checked_again_once() -> None:
    clock = Clock()
    gateway, document = verifier(SIGNER, clock=clock)
    token = signed()
    for _ in range(3):
        await gateway.verify(token)
        clock.past_max_age()

    assert document.fetched == 3 and gateway.signature_checks == 3, "each fetch brings new key objects"
