"""Odd keys the demo issuer can publish beside its signing key, to try a gateway's key handling.

Each name makes one JSON Web Key (a fresh one each time) that a careful verifier skips (RFC 7517 §5):

| name | what it is |
|---|---|
| ``unknown-curve`` | ``"kty": "EC", "crv": "BP-256"``: a curve JWT libraries do not know |
| ``malformed-rsa`` | ``"kty": "RSA"`` whose ``n`` is not base64url |
| ``unknown-type`` | a key type from a draft (``"kty": "AKP"``, ML-DSA) |
| ``encryption`` | a real RSA key with ``"use": "enc"`` and the signing key's ``kid`` |
| ``same-kid`` | another real RSA signing key with the signing key's ``kid`` |
| ``wrong-alg`` | an EC P-256 key that says ``"alg": "RS256"``, with the signing key's ``kid`` |
| ``oversized-rsa`` | an RSA public key with a 16384-bit modulus |
| ``private`` | an RSA key published with its private members |
| ``symmetric`` | an HMAC secret (``"kty": "oct"``) |
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

from joserfc.jwk import ECKey, RSAKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rsa(kid: str, use: str, alg: str, *, private: bool = False) -> dict[str, Any]:
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": use, "alg": alg})
    return dict(key.as_dict(private=private))


def _oversized(kid: str) -> dict[str, Any]:
    modulus = secrets.token_bytes(2048)
    modulus = bytes([modulus[0] | 0x80]) + modulus[1:-1] + bytes([modulus[-1] | 1])
    return {"kty": "RSA", "kid": "oversized-rsa", "use": "sig", "n": _b64(modulus), "e": "AQAB"}


ODD_KEYS: dict[str, Callable[[str], dict[str, Any]]] = {
    "unknown-curve": lambda kid: {
        "kty": "EC",
        "crv": "BP-256",
        "kid": "bp-256",
        "use": "sig",
        "x": _b64(secrets.token_bytes(32)),
        "y": _b64(secrets.token_bytes(32)),
    },
    "malformed-rsa": lambda kid: {"kty": "RSA", "kid": "malformed-rsa", "n": "!!not base64!!", "e": "AQAB"},
    "unknown-type": lambda kid: {"kty": "AKP", "alg": "ML-DSA-44", "kid": "ml-dsa", "pub": _b64(b"\x01" * 64)},
    "encryption": lambda kid: _rsa(kid, "enc", "RSA-OAEP-256"),
    "same-kid": lambda kid: _rsa(kid, "sig", "RS256"),
    "wrong-alg": lambda kid: {**ECKey.generate_key("P-256").as_dict(private=False), "kid": kid, "alg": "RS256"},
    "oversized-rsa": _oversized,
    "private": lambda kid: _rsa("leaked", "sig", "RS256", private=True),
    "symmetric": lambda kid: {"kty": "oct", "kid": "hmac", "k": _b64(secrets.token_bytes(32))},
}


def odd_key(name: str, signing_kid: str) -> dict[str, Any]:
    """A fresh odd key called ``name`` (``signing_kid`` is the issuer's, for the keys that share it)."""
    if name not in ODD_KEYS:
        raise ValueError(f"unknown odd key {name!r}; one of {sorted(ODD_KEYS)}")
    return ODD_KEYS[name](signing_kid)
