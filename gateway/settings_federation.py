"""The Federation subgraph's settings: the secret that seals patient keys (``PATIENTOVERBLIK_FEDERATION__…``).

``KEY_SECRET`` is 64 random bytes in base64 (``head -c 64 /dev/urandom | base64 -w0``); every gateway
process of one deployment must have the same one, or a key one process made does not open in another.
``PREVIOUS_KEY_SECRETS`` (a JSON list) still open keys an earlier secret made, while other graphs
move to the new keys. Without ``KEY_SECRET`` each process draws a random secret at start: keys then
change on every restart and differ between processes, which suits one process (the demo, tests), and
the start says so in a WARNING line; ``patientoverblik serve --workers N`` draws one for all its
workers. Secrets are ``SecretStr``: masked in ``repr`` and in validation
errors (ADR 0022).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from sources.patient_keys import SECRET_BYTES, PatientKeys

logger = logging.getLogger("patientoverblik.federation")

KEY_SECRET_VARIABLE = "PATIENTOVERBLIK_FEDERATION__KEY_SECRET"  # noqa: S105 - the variable's name, not a secret


def new_key_secret() -> str:
    """A fresh random key secret, in base64 as ``KEY_SECRET`` takes it."""
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _secret_bytes(value: SecretStr) -> bytes:
    text = "".join(value.get_secret_value().split())
    try:
        decoded = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a key secret is base64 (standard or URL-safe)") from None
    if len(decoded) != SECRET_BYTES:
        raise ValueError(f"a key secret is {SECRET_BYTES} random bytes in base64")
    return decoded


def _checked(value: SecretStr) -> SecretStr:
    _secret_bytes(value)
    return value


KeySecret = Annotated[SecretStr, AfterValidator(_checked)]
"""A patient key secret: base64 of :data:`~sources.patient_keys.SECRET_BYTES` bytes, never echoed."""


class FederationSettings(BaseModel):
    """The secrets of ``Patient.id``, the patient's key in the federated graph."""

    model_config = ConfigDict(extra="forbid")

    key_secret: KeySecret | None = Field(
        default=None,
        description=(
            "Seals and opens patient keys: 64 random bytes in base64, the same in every process of a deployment. "
            "Unset: a random secret per process (keys change on restart and differ between processes)."
        ),
    )
    previous_key_secrets: list[KeySecret] = Field(
        default_factory=list, description="Earlier key secrets: keys they sealed still open (rotation)."
    )

    def patient_keys(self) -> PatientKeys:
        """The deployment's patient keys; a random secret, with a WARNING, when none is set."""
        previous = [_secret_bytes(secret) for secret in self.previous_key_secrets]
        if self.key_secret is None:
            logger.warning(
                "%s is not set: patient keys (Patient.id) are this process's own, they change on restart and "
                "differ between gateway processes",
                KEY_SECRET_VARIABLE,
            )
            return PatientKeys.generate(previous)
        return PatientKeys(_secret_bytes(self.key_secret), previous)
