"""Errors raised by source adapters.

Every transport or payload failure of an upstream becomes one of these, carrying only the source's
name. Upstream bodies, field names and error texts never leave ``sources/``::

    SourceError
    ├── SourceUnavailable        the upstream could not be reached or answered 5xx/4xx
    │   ├── SourceTimeout        the upstream did not answer within its timeout
    │   └── SourceCircuitOpen    not asked: its breaker is open after repeated failures
    ├── SourceResponseInvalid    the upstream answered, but not with a payload we accept
    │                            (or some items of its answer were dropped as unusable)
    ├── SourceIncomplete         the upstream answered in part: it said so (an error
    │                            OperationOutcome in its answer), or it paged beyond the budget
    └── SourceRejected           the upstream refused a write (validation or version)
        └── SourceVersionConflict  an ``If-Match`` version no longer matches
"""

from __future__ import annotations

__all__ = [
    "SourceCircuitOpen",
    "SourceError",
    "SourceIncomplete",
    "SourceRejected",
    "SourceResponseInvalid",
    "SourceTimeout",
    "SourceUnavailable",
    "SourceVersionConflict",
]


class SourceError(Exception):
    """Base of every failure talking to an upstream source."""

    def __init__(self, source: str, detail: str = "") -> None:
        self.source = source
        self.detail = detail
        message = f"source {source!r} failed" + (f": {detail}" if detail else "")
        super().__init__(message)


class SourceUnavailable(SourceError):
    """The source could not be reached, or answered with an error status."""


class SourceTimeout(SourceUnavailable):
    """The source did not answer within its configured timeout."""


class SourceCircuitOpen(SourceUnavailable):
    """The source was not asked: its circuit breaker is open after repeated failures (``sources/breaker.py``)."""


class SourceResponseInvalid(SourceError):
    """The source answered with a payload that failed validation."""


class SourceIncomplete(SourceError):
    """The source answered only in part; what it gave is used, and the answer is reported incomplete."""


class SourceRejected(SourceError):
    """The source refused a write."""


class SourceVersionConflict(SourceRejected):
    """The record changed since the caller read it (optimistic version mismatch)."""
