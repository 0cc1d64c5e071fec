"""Errors of the auth layer: who is calling, what they may see, and the access record::

AuthError
├── AuthenticationFailed   the bearer token is missing, malformed, expired or not ours (HTTP 401)
├── AccessDenied           the caller may not see this patient or category (FORBIDDEN)
│   ├── ConsentDenied      the patient's block (Min Spærring) denies it (CONSENT_DENIED)
│   ├── FieldNotAllowed    the client's registration does not allow this field (FORBIDDEN)
│   └── Unauthenticated    an anonymous caller asked for patient data (UNAUTHENTICATED)
│       └── TokenExpired   the token of a running subscription expired: it ends (UNAUTHENTICATED)
├── InvalidOverride        the override (værdispring) is malformed (BAD_USER_INPUT)
├── AccessUnavailable      a source the decision needs failed (how: its kind), so access fails closed
└── AccessRecordFailed     the access record could not be written: no record, no data
"""

from __future__ import annotations

from sources.errors import FailureKind


class AuthError(Exception):
    """Base of every error raised by ``auth/``."""


class AuthenticationFailed(AuthError):
    """The bearer token could not be accepted; the message says why, without token contents."""


class AccessDenied(AuthError):
    """The caller may not see this data."""


class ConsentDenied(AccessDenied):
    """The patient's block denies this caller; a professional may override it (``overridable``)."""

    def __init__(self, message: str, *, overridable: bool = False) -> None:
        super().__init__(message)
        self.overridable = overridable


class FieldNotAllowed(AccessDenied):
    """The calling system's client registration does not allow this field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidOverride(AuthError):
    """The override argument is malformed; ``argument`` names the part that is wrong."""

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class Unauthenticated(AccessDenied):
    """Patient data needs a verified caller."""


class TokenExpired(Unauthenticated):
    """The token a subscription was started with has expired, so it ends (ADR 0023)."""


class AccessUnavailable(AuthError):
    """A source the access decision depends on failed; access is denied until it answers.

    ``kind`` says how it failed (a timeout, down, an answer the gateway refused): the client's code
    names that, as it does for a section the same failure cut."""

    def __init__(self, message: str, source: str, kind: FailureKind = FailureKind.UNAVAILABLE) -> None:
        super().__init__(message)
        self.source = source
        self.kind = kind


class AccessRecordFailed(AuthError):
    """The durable access record could not be written, so no data is returned."""
