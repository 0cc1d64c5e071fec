"""Batch answers keyed by CPR number (or ydernummer): per key a record, ``None`` (unknown) or an error.

A batch adapter never lets one unusable entry sink the others: the entry's own key gets a
:class:`~sources.errors.SourceError` instead of a record, which rejects only that key in the
per-request loader (``resolvers/loaders.py``), so only that patient's field is ``null`` with a coded
error. An entry that cannot be attributed to a key (no readable identifier) may have been any
unanswered key's, so every key still without a record gets the error: an unknown key never reads
as "no such person" when the source may have sent one.
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

from sources.errors import SourceError

V = TypeVar("V")

Keyed: TypeAlias = dict[str, V | SourceError | None]
"""Per asked key: its record, ``None`` when the source has none, or the error that kept it out."""


def fail_unanswered(result: Keyed[V], error: SourceError) -> None:
    """Give ``error`` to every key that has no record yet (an unattributable entry may be theirs)."""
    for key, value in result.items():
        if value is None:
            result[key] = error


def records(result: Keyed[V]) -> dict[str, V | None]:
    """The answer for callers that must fail closed on an error: a key with an error reads as unknown."""
    return {key: None if isinstance(value, SourceError) else value for key, value in result.items()}
