"""Batch answers keyed by CPR number (or ydernummer): per key a record, ``None`` (unknown) or an error.

A batch adapter never lets one unusable entry sink the others: the entry's own key gets a
:class:`~sources.errors.SourceError` instead of a record, which rejects only that key in the
per-request loader (``resolvers/loaders.py``), so only that patient's field is ``null`` with a coded
error. An entry that cannot be attributed to a key (no readable identifier) may have been any
unanswered key's, so every key still without a record gets the error: an unknown key never reads
as "no such person" when the source may have sent one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from pydantic import ValidationError

from sources.errors import SourceError

V = TypeVar("V")

Keyed: TypeAlias = dict[str, V | SourceError | None]
"""Per asked key: its record, ``None`` when the source has none, or the error that kept it out."""


class Naming(Protocol):
    """A model that reads only what names the key an entry is about, even when the rest is unusable."""

    @classmethod
    def model_validate(cls, obj: Any) -> Naming: ...

    @property
    def key(self) -> str | None: ...


def key_of(model: type[Naming], entry: object) -> str | None:
    """The key ``entry`` names, read with ``model``; ``None`` when it names none that can be read."""
    try:
        return model.model_validate(entry).key
    except ValidationError:
        return None


class KeyedAnswer(Generic[V]):
    """Collects one batch answer: records and errors per key, and errors no key can be given."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._result: Keyed[V] = dict.fromkeys(keys)
        self._unattributed: SourceError | None = None

    def __contains__(self, key: object) -> bool:
        return key in self._result

    def record(self, key: str, record: V) -> None:
        """``key``'s record (the first one wins; a record wins over an error for the same key)."""
        if key in self._result and (self._result[key] is None or isinstance(self._result[key], SourceError)):
            self._result[key] = record

    def fail(self, key: str | None, error: SourceError) -> None:
        """An entry about ``key`` (``None``: about no key that can be told) could not be used."""
        if key is None:
            self._unattributed = error
        elif key in self._result and self._result[key] is None:
            self._result[key] = error

    def answer(self) -> Keyed[V]:
        """Every key's answer; keys still unanswered get an unattributed entry's error."""
        if self._unattributed is not None:
            for key, value in self._result.items():
                if value is None:
                    self._result[key] = self._unattributed
        return self._result


def records(result: Keyed[V]) -> dict[str, V | None]:
    """The answer for callers that must fail closed on an error: a key with an error reads as unknown."""
    return {key: None if isinstance(value, SourceError) else value for key, value in result.items()}
