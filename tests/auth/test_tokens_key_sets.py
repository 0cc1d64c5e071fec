"""Token verification against key sets that mix good keys with keys the gateway cannot or must not use.

RFC 7517 §5: members that cannot be used are skipped one by one and counted; the good keys keep
verifying. The property generates key sets from good keys, odd keys of every kind (each may borrow a
good key's ``kid``), other valid keys sharing a good key's ``kid``, in any order, and checks that:

- a token signed by any good key verifies, with its ``kid`` and without one;
- a token signed by a key the set publishes for encryption, with operations other than ``verify``,
  with an algorithm not accepted, too small, or with its private half, never verifies;
- every odd member is counted under its reason, and nothing raises but :class:`AuthenticationFailed`.
"""

from __future__ import annotations

import base64
import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, RSAKey

from auth.actor import ActorKind
from auth.errors import AuthenticationFailed
from auth.keys import MAX_KEYS, SkipReason, usable_keys
from auth.tokens import TokenVerifier

ISSUER = "https://issuer.test"
HANS = "1403723705"
RSA_POOL = [RSAKey.generate_key(2048) for _ in range(3)]
EC_POOL = [ECKey.generate_key("P-256") for _ in range(3)]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", SecurityWarning)
    SMALL_RSA = RSAKey.import_key(rsa.generate_private_key(65537, 1024))  # noqa: S505 - an undersized key, on purpose


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public(key: Key, **members: Any) -> dict[str, Any]:
    return {**key.as_dict(private=False), **members}


def algorithm_of(key: Key) -> str:
    return "RS256" if isinstance(key, RSAKey) else "ES256"


def token(key: Key, kid: str | None) -> str:
    header = {"alg": algorithm_of(key)} | ({"kid": kid} if kid is not None else {})
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "patientoverblik",
        "exp": now + 600,
        "sub": "x",
        "actor_kind": "citizen",
        "cpr": HANS,
    }
    return jwt.encode(header, claims, key)


class Document:
    """A key set source that serves one fixed document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetched = 0

    async def key_set(self) -> dict[str, Any]:
        self.fetched += 1
        return self.document


def verifier(document: dict[str, Any]) -> TokenVerifier:
    return TokenVerifier(Document(document), issuer=ISSUER, audience="patientoverblik")


@dataclass(frozen=True)
class Odd:
    """A member the gateway must skip; ``signer`` is its private half when the test holds one."""

    member: Any
    reason: SkipReason
    signer: Key | None = None


def odd_members(kids: list[str]) -> st.SearchStrategy[Odd]:
    """Every kind of member the gateway must not use; a JWK among them may take a good key's kid."""
    kid = st.sampled_from([*kids, "odd"])
    attacker = st.sampled_from(RSA_POOL[:1])  # a key the test can sign with, never a good key here
    noise = bytes(range(32))
    return st.one_of(
        st.one_of(st.none(), st.integers(), st.text(max_size=4), st.lists(st.integers(), max_size=2)).map(
            lambda m: Odd(m, SkipReason.MALFORMED)
        ),
        st.builds(
            lambda k, crv: Odd(
                {"kty": "EC", "crv": crv, "kid": k, "x": b64(noise), "y": b64(noise)}, SkipReason.UNSUPPORTED
            ),
            kid,
            st.sampled_from(["BP-256", "brainpoolP256r1", "P-192", "X25519"]),
        ),
        st.builds(
            lambda k, bad: Odd({"kty": "RSA", "kid": k, **bad}, SkipReason.MALFORMED),
            kid,
            st.sampled_from([{"n": "!!", "e": "AQAB"}, {"e": "AQAB"}, {"n": 12345, "e": "AQAB"}, {"n": "AAAA"}]),
        ),
        st.builds(
            lambda k, kty: Odd({"kty": kty, "kid": k, "pub": b64(noise)}, SkipReason.UNSUPPORTED),
            kid,
            st.sampled_from(["AKP", "XYZ", "rsa", ""]),
        ),
        st.builds(lambda k: Odd({"kty": "oct", "kid": k, "k": b64(noise)}, SkipReason.PRIVATE), kid),
        st.builds(lambda k: Odd({"kid": k, "n": "AQAB"}, SkipReason.MALFORMED), kid),
        st.builds(
            lambda k, a, how: Odd(public(a, kid=k, **how), SkipReason.NOT_FOR_SIGNATURES, a),
            kid,
            attacker,
            st.sampled_from([{"use": "enc"}, {"key_ops": ["encrypt"]}, {"use": "signature"}, {"key_ops": []}]),
        ),
        st.builds(
            lambda k, a, alg: Odd(public(a, kid=k, alg=alg), SkipReason.ALGORITHM_NOT_ALLOWED, a),
            kid,
            attacker,
            st.sampled_from(["RS512", "PS256", "HS256", "none"]),
        ),
        st.builds(lambda k: Odd(public(EC_POOL[0], kid=k, alg="RS256"), SkipReason.MALFORMED), kid),
        st.builds(lambda k: Odd(public(SMALL_RSA, kid=k), SkipReason.KEY_SIZE, SMALL_RSA), kid),
        st.builds(
            lambda k: Odd(
                {"kty": "RSA", "kid": k, "n": b64(b"\xc1" + bytes(2046) + b"\x01"), "e": "AQAB"}, SkipReason.KEY_SIZE
            ),
            kid,
        ),
        st.builds(lambda k, a: Odd({**a.as_dict(private=True), "kid": k}, SkipReason.PRIVATE, a), kid, attacker),
    )


@st.composite
def key_sets(draw: st.DrawFn) -> tuple[list[tuple[Key, str | None]], list[Odd], list[Any]]:
    """Good keys (with their kid or none), the odd members, and the whole set in a drawn order."""
    pool: list[Key] = [*RSA_POOL[1:], *EC_POOL[1:]]
    goods = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique_by=id))
    good: list[tuple[Key, str | None]] = [
        (key, draw(st.sampled_from([f"good-{i}", f"good-{i}", None]))) for i, key in enumerate(goods)
    ]
    kids = [kid for _, kid in good if kid is not None]
    odd = draw(st.lists(odd_members(kids), max_size=6))
    extras = {"use": "sig"} if draw(st.booleans()) else {"key_ops": ["verify"]}
    members = [public(key, **({"kid": kid} if kid else {}), **extras) for key, kid in good]
    twins = [public(EC_POOL[0], kid=kid) for kid in kids[:1] if draw(st.booleans())]  # a valid key sharing a kid
    everything = draw(st.permutations([*members, *[o.member for o in odd], *twins]))
    return good, odd, everything


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=key_sets())
@example(
    case=(
        [(RSA_POOL[1], "good-0")],
        [Odd({"kty": "EC", "crv": "BP-256", "kid": "bp", "x": "AA", "y": "AA"}, SkipReason.UNSUPPORTED)],
        [],
    )
)
async def test_good_keys_verify_and_odd_keys_are_skipped_and_counted(
    case: tuple[list[tuple[Key, str | None]], list[Odd], list[Any]],
) -> None:
    good, odd, everything = case
    if not everything:  # the explicit example: the issue's set, good key after the unknown curve
        everything = [o.member for o in odd] + [public(key, kid=kid) for key, kid in good]
    gateway = verifier({"keys": everything})

    for key, kid in good:
        assert (await gateway.verify(token(key, kid))).kind is ActorKind.CITIZEN
        assert (await gateway.verify(token(key, None))).kind is ActorKind.CITIZEN
    for member in odd:
        if member.signer is not None:
            signed_kid = member.member.get("kid") if isinstance(member.member, dict) else None
            with pytest.raises(AuthenticationFailed):
                await gateway.verify(token(member.signer, signed_kid))
    leaked = {id(o.signer) for o in odd if o.reason is SkipReason.PRIVATE and o.signer is not None}
    expected: dict[SkipReason, int] = {}
    for member in odd:
        # A public key whose private half the set also publishes is distrusted wherever it appears.
        reason = SkipReason.PRIVATE if id(member.signer) in leaked else member.reason
        expected[reason] = expected.get(reason, 0) + 1
    assert dict(gateway.skipped_keys) == expected


def test_a_key_published_with_its_private_half_is_distrusted_everywhere_in_the_set() -> None:
    leaked = RSA_POOL[0]
    found = usable_keys({"keys": [public(leaked, kid="a"), {**leaked.as_dict(private=True), "kid": "b"}]}, ["RS256"])

    assert found.keys == ()
    assert found.skipped == {SkipReason.PRIVATE: 2}


def test_members_beyond_the_bound_are_counted_not_read() -> None:
    members = [public(EC_POOL[1], kid=f"k{i}") for i in range(MAX_KEYS + 7)]

    found = usable_keys({"keys": members}, ["ES256"])

    assert len(found.keys) == MAX_KEYS
    assert found.skipped == {SkipReason.TOO_MANY: 7}


def test_a_key_set_whose_keys_is_not_a_list_has_no_usable_key() -> None:
    assert usable_keys({"keys": {"kty": "RSA"}}, ["RS256"]).keys == ()


async def test_two_keys_with_one_kid_are_both_tried() -> None:
    first, second = RSA_POOL[1], RSA_POOL[2]
    gateway = verifier({"keys": [public(first, kid="shared"), public(second, kid="shared")]})

    assert (await gateway.verify(token(second, "shared"))).cpr == HANS
    assert (await gateway.verify(token(first, "shared"))).cpr == HANS


async def test_one_kid_on_an_rsa_and_an_ec_key_picks_the_one_the_algorithm_fits() -> None:
    gateway = verifier({"keys": [public(RSA_POOL[1], kid="k"), public(EC_POOL[1], kid="k")]})

    assert (await gateway.verify(token(EC_POOL[1], "k"))).cpr == HANS
    assert (await gateway.verify(token(RSA_POOL[1], "k"))).cpr == HANS


async def test_the_signing_key_published_only_for_encryption_verifies_nothing() -> None:
    key = RSA_POOL[1]
    gateway = verifier({"keys": [public(key, kid="k", use="enc"), public(EC_POOL[1], kid="other")]})

    with pytest.raises(AuthenticationFailed, match="key the issuer does not publish"):
        await gateway.verify(token(key, "k"))


async def test_a_key_naming_another_algorithm_than_the_token_is_not_used_for_it() -> None:
    key = RSA_POOL[1]
    gateway = TokenVerifier(
        Document({"keys": [public(key, kid="k", alg="PS256"), public(EC_POOL[1], kid="other")]}),
        issuer=ISSUER,
        audience="patientoverblik",
        algorithms=("RS256", "PS256"),
    )

    with pytest.raises(AuthenticationFailed, match="key the issuer does not publish"):
        await gateway.verify(token(key, "k"))  # RS256 in the header, the key is for PS256 only


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "PS256"])
async def test_a_token_algorithm_off_the_allow_list_is_refused_before_any_key_is_fetched(alg: str) -> None:
    source = Document({"keys": [public(RSA_POOL[1], kid="k")]})
    gateway = TokenVerifier(source, issuer=ISSUER, audience="patientoverblik")
    header = b64(f'{{"alg":"{alg}","kid":"k"}}'.encode())

    with pytest.raises(AuthenticationFailed, match="algorithm"):
        await gateway.verify(f"{header}.{b64(b'{}')}.{b64(b'sig')}")
    assert source.fetched == 0


@pytest.mark.parametrize("header", [b"[]", b'{"alg": "RS256", "kid": 7}', b"not json", b'"RS256"'])
async def test_a_malformed_header_is_refused(header: bytes) -> None:
    gateway = verifier({"keys": [public(RSA_POOL[1], kid="k")]})

    with pytest.raises(AuthenticationFailed):
        await gateway.verify(f"{b64(header)}.{b64(b'{}')}.{b64(b'sig')}")


async def test_skipped_keys_are_logged_once_per_fetch_without_key_material(caplog: pytest.LogCaptureFixture) -> None:
    odd_rsa = {"kty": "RSA", "kid": "broken", "n": "!!secret-looking-modulus!!", "e": "AQAB"}
    gateway = verifier({"keys": [odd_rsa, public(RSA_POOL[1], kid="k")]})
    caplog.set_level(logging.WARNING)

    for _ in range(3):
        await gateway.verify(token(RSA_POOL[1], "k"))

    lines = [r.getMessage() for r in caplog.records if "key set" in r.getMessage()]
    assert lines == ["token issuer key set: 1 keys used, skipped malformed: 1"]
    assert "secret-looking" not in caplog.text and "broken" not in caplog.text


class Failing(Document):
    """A key set source that serves its document once, then fails (the issuer's endpoint timed out)."""

    async def key_set(self) -> dict[str, Any]:
        if self.fetched:
            raise TimeoutError
        return await super().key_set()


async def test_an_unknown_key_when_the_key_set_cannot_be_fetched_says_so() -> None:
    gateway = TokenVerifier(
        Failing({"keys": [public(RSA_POOL[1], kid="known")]}), issuer=ISSUER, audience="patientoverblik"
    )
    assert (await gateway.verify(token(RSA_POOL[1], "known"))).cpr == HANS

    with pytest.raises(AuthenticationFailed) as refused:
        await gateway.verify(token(RSA_POOL[2], "rotated"))

    assert "could not be fetched" in str(refused.value) and "does not publish" not in str(refused.value)
