"""Errors raised by source adapters, and the kind of failure each one names.

Every transport or payload failure of an upstream becomes one of these, carrying only the source's
name. Upstream bodies, field names and error texts never leave ``sources/``::

    SourceError
    ├── SourceUnavailable        the upstream could not be reached or answered 5xx/4xx
    │   ├── SourceTimeout        the upstream did not answer within its timeout
    │   │   └── SourceSkipped    not asked: the request's deadline left too little time (ADR 0024)
    │   └── SourceCircuitOpen    not asked: its breaker is open after repeated failures
    ├── SourceResponseInvalid    the upstream answered, but not with a payload we accept
    │                            (or some items of its answer were dropped as unusable)
    ├── SourceIncomplete         the upstream answered in part: it said so (an error
    │                            OperationOutcome in its answer), or it paged beyond the budget
    └── SourceRejected           the upstream refused a write (validation or version)
        └── SourceVersionConflict  an ``If-Match`` version no longer matches

Each class names its :class:`FailureKind` (``kind``): the one thing the layers above read to tell
what happened (the error code a client sees, a section's ``SourceState``, why access failed closed),
so a failure keeps its kind wherever it travels (:class:`SourceFailure`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "FailureKind",
    "SourceCircuitOpen",
    "SourceError",
    "SourceFailure",
    "SourceIncomplete",
    "SourceRejected",
    "SourceResponseInvalid",
    "SourceSkipped",
    "SourceTimeout",
    "SourceUnavailable",
    "SourceVersionConflict",
]


class FailureKind(StrEnum):
    """What went wrong with a source, as callers and operators are told."""

    UNAVAILABLE = "unavailable"
    """Not reached, a 4xx/5xx answer to a read, or not asked because its breaker is open."""
    TIMEOUT = "timeout"
    """No answer within its deadline, or not asked because the request's deadline left too little time."""
    INVALID_RESPONSE = "invalid_response"
    """An answer the gateway does not accept: too large, badly encoded, not the wire format."""
    INCOMPLETE = "incomplete"
    """An answer in part: the source said so, or it had more pages than the gateway follows."""
    REJECTED = "rejected"
    """A write the source refused (validation, no such record)."""
    VERSION_CONFLICT = "version_conflict"
    """A write whose ``If-Match`` version no longer matches."""


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """A source failure as data: which source, and what kind (no text)."""

    source: str
    kind: FailureKind


class SourceError(Exception):
    """Base of every failure talking to an upstream source."""

    kind: ClassVar[FailureKind] = FailureKind.UNAVAILABLE

    def __init__(self, source: str, detail: str = "") -> None:
        self.source = source
        self.detail = detail
        message = f"source {source!r} failed" + (f": {detail}" if detail else "")
        super().__init__(message)

    @property
    def failure(self) -> SourceFailure:
        """This failure as data: its source and kind."""
        return SourceFailure(self.source, self.kind)


class SourceUnavailable(SourceError):
    """The source could not be reached, or answered with an error status."""


class SourceTimeout(SourceUnavailable):
    """The source did not answer within its configured timeout (or the request's deadline)."""

    kind = FailureKind.TIMEOUT


class SourceSkipped(SourceTimeout):
    """The source was not asked: the request's deadline left less than the least time a call gets."""


class SourceCircuitOpen(SourceUnavailable):
    """The source was not asked: its circuit breaker is open after repeated failures (``sources/breaker.py``)."""


class SourceResponseInvalid(SourceError):
    """The source answered with a payload that failed validation."""

    kind = FailureKind.INVALID_RESPONSE


class SourceIncomplete(SourceError):
    """The source answered only in part; what it gave is used, and the answer is reported incomplete."""

    kind = FailureKind.INCOMPLETE


class SourceRejected(SourceError):
    """The source refused a write."""

    kind = FailureKind.REJECTED


class SourceVersionConflict(SourceRejected):
    """The record changed since the caller read it (optimistic version mismatch)."""

    kind = FailureKind.VERSION_CONFLICT
