"""The patient's federation key (``Patient.id``) and the representations a router sends for it (ADR 0022).

A key is the CPR number sealed with AES-SIV (RFC 5297, deterministic authenticated encryption, from
``cryptography``) under the deployment's secret: the same patient always gets the same key in one
deployment, so a router can join other graphs on it, but the key shows nothing of the number, and a
key this deployment did not make (forged, altered, another deployment's) does not open. Opening one
needs no store: ``_entities`` reads the number back from the key itself.

A key is 35 characters of unpadded base64url (the 16-byte synthetic IV and the 10 sealed digits). The
secret is 64 bytes (AES-SIV with two 256-bit keys); earlier secrets still open keys they made, so a
secret can be rotated without breaking keys other graphs hold for a while.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from sources.identifiers import is_cpr

SECRET_BYTES: Final = 64
"""The length of a deployment's key secret: AES-SIV with two 256-bit AES keys."""
KEY_LENGTH: Final = 35
"""Characters of a key: base64url without padding of 16 bytes of synthetic IV and the 10 digits."""
_CONTEXT: Final = [b"patientoverblik Patient.id v1"]
"""Associated data: a key opens only as a patient key of this scheme's version."""
ENTITY_TYPE: Final = "Patient"
"""The one entity type of the graph (``__typename`` of its representations)."""
KEY_FIELD: Final = "id"
"""The field that holds the key (``@key(fields: "id")``)."""


class InvalidPatientKey(ValueError):
    """A key this deployment did not make: malformed, forged, altered, or sealed under another secret."""


class PatientKeys:
    """Seals CPR numbers into keys and opens them again, under a deployment's secrets."""

    def __init__(self, secret: bytes, previous: Sequence[bytes] = ()) -> None:
        """``secret`` seals and opens; each of ``previous`` only opens. Each is :data:`SECRET_BYTES` bytes."""
        for value in (secret, *previous):
            if len(value) != SECRET_BYTES:
                raise ValueError(f"a patient key secret is {SECRET_BYTES} bytes")
        self._sealing = AESSIV(secret)
        self._opening = [self._sealing, *(AESSIV(value) for value in previous)]

    @classmethod
    def generate(cls, previous: Sequence[bytes] = ()) -> PatientKeys:
        """Keys sealed under a random secret: they open only in this process (one process, tests)."""
        return cls(secrets.token_bytes(SECRET_BYTES), previous)

    def key_of(self, cpr: str) -> str:
        """The key of the patient with CPR number ``cpr`` (ten digits); the same every time."""
        if not is_cpr(cpr):
            raise ValueError("not a CPR number")
        sealed = self._sealing.encrypt(cpr.encode("ascii"), _CONTEXT)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def cpr_of(self, key: str) -> str:
        """The CPR number sealed in ``key``; :class:`InvalidPatientKey` when this deployment did not make it."""
        if len(key) != KEY_LENGTH or not key.isascii():
            raise InvalidPatientKey("not a patient key")
        try:
            sealed = base64.b64decode(key + "=", altchars=b"-_", validate=True)
        except binascii.Error:
            raise InvalidPatientKey("not a patient key") from None
        if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii") != key:
            raise InvalidPatientKey("not a patient key")  # one spelling per key
        for siv in self._opening:
            try:
                opened = siv.decrypt(sealed, _CONTEXT).decode("ascii")
            except (InvalidTag, UnicodeDecodeError):
                continue
            if is_cpr(opened):
                return opened
        raise InvalidPatientKey("not a patient key of this deployment")


@dataclass(frozen=True, slots=True)
class BadRepresentation:
    """A representation ``_entities`` cannot use; ``part`` is the path into it (``""``, ``.id``)."""

    part: str
    message: str
    forged: bool = False
    """A string was sent as the key, and it does not open: malformed, forged, altered, or another deployment's."""


def patient_of(representation: object, keys: PatientKeys) -> str | BadRepresentation:
    """The CPR number a federation representation names (``{"__typename": "Patient", "id": <key>}``).

    Anything else is a :class:`BadRepresentation` saying what is wrong, never echoing a value: not an
    object, other fields than ``__typename`` and ``id``, another type, or a key that does not open.
    The gate and the ``_entities`` resolver both read representations with this one function.
    """
    if not isinstance(representation, Mapping):
        return BadRepresentation("", "a representation must be an object with __typename and id")
    if set(representation) != {"__typename", KEY_FIELD}:
        return BadRepresentation("", "a Patient representation has exactly the fields __typename and id")
    if representation["__typename"] != ENTITY_TYPE:
        return BadRepresentation(".__typename", "the only entity type of this graph is Patient")
    key = representation[KEY_FIELD]
    if not isinstance(key, str):
        return BadRepresentation(f".{KEY_FIELD}", "a patient key is a string")
    try:
        return keys.cpr_of(key)
    except InvalidPatientKey:
        return BadRepresentation(f".{KEY_FIELD}", "the patient key was not made by this deployment", forged=True)
