"""The issuer's keys the gateway can use, taken one by one from its JSON Web Key Set.

RFC 7517 §5: a key set may hold keys an implementation cannot use; those are ignored, the others
keep working. :func:`usable_keys` reads every member of ``{"keys": [...]}`` on its own, so one odd
key never costs the others, and counts each key it leaves out under a :class:`SkipReason`. A key is
used only when all of these hold:

- it is a JSON object with ``kty`` ``RSA``, ``EC`` (``P-256``, ``P-384``, ``P-521``, ``secp256k1``) or
  ``OKP`` (``Ed25519``, ``Ed448``); ``kid``, ``use`` and ``alg`` are strings and ``key_ops`` a list of
  strings when present, and joserfc imports it;
- it publishes no private member (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``oth``, ``k``): a key
  whose private half is public can be used by anyone to sign, so it is never trusted, nor is the same
  public key published elsewhere in the set;
- it may verify signatures: ``use`` absent or ``sig`` (RFC 7517 §4.2), ``key_ops`` absent or holding
  ``verify`` (§4.3);
- an accepted algorithm fits it (its ``alg`` when it names one, RFC 7517 §4.4; otherwise any accepted
  algorithm for its type and curve);
- an RSA modulus is 2048 to 4096 bits (RFC 7518 §3.3 asks for 2048 at least; the upper bound keeps
  the cost of one verification small) and its public exponent at most 2³²;
- it is among the first :data:`MAX_KEYS` members.

:meth:`UsableKeys.candidates` picks the keys to try for one token: those with the token's ``kid``
(every one of them: two keys may share a ``kid``), or every key when the token names none, that fit
the token's algorithm.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key
from joserfc.jws import JWSRegistry

MAX_KEYS = 50
"""Members of a key set considered; a token without ``kid`` is tried against at most this many keys."""
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 4096
MAX_RSA_EXPONENT = 2**32

_CURVES = {"EC": frozenset({"P-256", "P-384", "P-521", "secp256k1"}), "OKP": frozenset({"Ed25519", "Ed448"})}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_PUBLIC_MEMBERS = {"RSA": ("e", "n"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
"""The members that identify a public key (RFC 7638 §3.2)."""
_STRING_MEMBERS = ("kid", "use", "alg")


class SkipReason(StrEnum):
    """Why a member of the key set is not used."""

    MALFORMED = "malformed"
    """Not a JSON object, a member of the wrong type, or a key joserfc cannot import."""
    UNSUPPORTED = "unsupported"
    """A key type (``kty``) or curve (``crv``) the gateway does not verify with, e.g. ``BP-256``."""
    PRIVATE = "private"
    """Private members are published (or the same public key is published with them elsewhere)."""
    NOT_FOR_SIGNATURES = "not_for_signatures"
    """``use`` is not ``sig``, or ``key_ops`` does not hold ``verify``."""
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    """No accepted algorithm fits the key (its ``alg``, or its type and curve)."""
    KEY_SIZE = "key_size"
    """An RSA modulus outside 2048 to 4096 bits, or a public exponent above 2³²."""
    TOO_MANY = "too_many"
    """Beyond the first :data:`MAX_KEYS` members of the set."""


@dataclass(frozen=True)
class UsableKeys:
    """The keys of one key set that can verify tokens, and how many members were left out, by reason."""

    keys: tuple[Key, ...] = ()
    skipped: Mapping[SkipReason, int] = field(default_factory=dict)

    def candidates(self, algorithm: str, kid: str | None) -> list[Key]:
        """The keys to try for a token signed with ``algorithm`` naming ``kid`` (``None``: every key)."""
        model = JWSRegistry.algorithms[algorithm]
        return [key for key in self.keys if (kid is None or key.kid == kid) and _fits(model, key)]


def usable_keys(document: Mapping[str, Any], algorithms: Collection[str]) -> UsableKeys:
    """The usable keys of the key set ``document`` (``{"keys": [...]}``) for the accepted ``algorithms``.

    Never raises for a member: each one that cannot be used is counted in ``skipped``.
    """
    listed = document.get("keys")
    members: list[Any] = list(listed) if isinstance(listed, list) else []
    skipped: Counter[SkipReason] = Counter()
    if len(members) > MAX_KEYS:
        skipped[SkipReason.TOO_MANY] = len(members) - MAX_KEYS
        members = members[:MAX_KEYS]
    leaked = {_identity(m) for m in members if isinstance(m, dict) and any(p in m for p in _PRIVATE_MEMBERS)}
    keys: list[Key] = []
    for member in members:
        outcome = _usable(member, algorithms, leaked)
        if isinstance(outcome, SkipReason):
            skipped[outcome] += 1
        else:
            keys.append(outcome)
    return UsableKeys(tuple(keys), dict(skipped))


def _usable(member: Any, algorithms: Collection[str], leaked: set[tuple[object, ...]]) -> Key | SkipReason:
    if not isinstance(member, dict):
        return SkipReason.MALFORMED
    shape = _shape(member)
    if shape is not None:
        return shape
    if any(p in member for p in _PRIVATE_MEMBERS) or _identity(member) in leaked:
        return SkipReason.PRIVATE
    if member.get("use", "sig") != "sig" or "verify" not in member.get("key_ops", ["verify"]):
        return SkipReason.NOT_FOR_SIGNATURES
    if "alg" in member and member["alg"] not in algorithms:
        return SkipReason.ALGORITHM_NOT_ALLOWED
    if member["kty"] == "RSA" and not _rsa_size_allowed(member):
        return SkipReason.KEY_SIZE
    try:
        key = JWKRegistry.import_key(member)
        key.public_key  # noqa: B018 - builds the native key now, so a bad point or modulus fails here
    except Exception:  # joserfc and cryptography raise many types for bad input
        return SkipReason.MALFORMED
    models = [JWSRegistry.algorithms[a] for a in algorithms if a in JWSRegistry.algorithms]
    if not any(_fits(model, key) for model in models):
        return SkipReason.MALFORMED if "alg" in member else SkipReason.ALGORITHM_NOT_ALLOWED
    return key


def _shape(member: dict[str, Any]) -> SkipReason | None:
    """Why the member's type, curve or members' types rule it out, before any import."""
    kty = member.get("kty")
    if not isinstance(kty, str):
        return SkipReason.MALFORMED
    if kty not in _PUBLIC_MEMBERS:
        return SkipReason.PRIVATE if "k" in member else SkipReason.UNSUPPORTED
    if kty in _CURVES and member.get("crv") not in _CURVES[kty]:
        return SkipReason.UNSUPPORTED if isinstance(member.get("crv"), str) else SkipReason.MALFORMED
    if any(name in member and not isinstance(member[name], str) for name in _STRING_MEMBERS):
        return SkipReason.MALFORMED
    ops = member.get("key_ops", [])
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        return SkipReason.MALFORMED
    if not all(isinstance(member.get(name), str) for name in _PUBLIC_MEMBERS[kty]):
        return SkipReason.MALFORMED
    return None


def _identity(member: dict[str, Any]) -> tuple[object, ...]:
    """The public key a member describes, comparable across members."""
    kty = member.get("kty")
    names = _PUBLIC_MEMBERS.get(kty, ()) if isinstance(kty, str) else ()
    return (str(kty), *(str(member.get(name)) for name in names))


def _rsa_size_allowed(member: dict[str, Any]) -> bool:
    """Whether the modulus is 2048 to 4096 bits and the exponent at most 2³², read before any import.

    Checked on the encoded numbers, so an oversized key costs nothing and an undersized one never
    reaches joserfc (which warns about it). Members that are not base64url pass here and fail import.
    """
    if len(member["n"]) > (MAX_RSA_BITS // 6) + 4 or len(member["e"]) > 8:
        return False
    try:
        modulus, exponent = (int.from_bytes(_b64url(member[name]), "big") for name in ("n", "e"))
    except (ValueError, binascii.Error):
        return True
    return MIN_RSA_BITS <= modulus.bit_length() <= MAX_RSA_BITS and exponent <= MAX_RSA_EXPONENT


def _b64url(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _fits(model: Any, key: Key) -> bool:
    """Whether joserfc's algorithm ``model`` accepts ``key`` (use, type, curve and the key's ``alg``)."""
    try:
        model.check_key(key)
    except JoseError:
        return False
    return True
