"""Batch answers keyed by CPR number (or ydernummer): per key a record, ``None`` (unknown) or an error.

A batch adapter never lets one unusable entry sink the others: the entry's own key gets a
:class:`~sources.errors.SourceError` instead of a record, which rejects only that key in the
per-request loader (``resolvers/loaders.py``), so only that patient's field is ``null`` with a coded
error. An entry that cannot be attributed to a key (no readable identifier) may have been any
unanswered key's, so every key still without a record gets the error: an unknown key never reads
as "no such person" when the source may have sent one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from pydantic import ValidationError

from sources.errors import SourceError
from sources.payloads import ShapeError

V = TypeVar("V")
H = TypeVar("H")
M = TypeVar("M")

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


@dataclass
class Family(Generic[H, M]):
    """Keyed heads of a batch (a master card, a practice) and the members each has (relatives, doctors)."""

    heads: dict[str, H] = field(default_factory=dict)
    members: dict[str, list[M]] = field(default_factory=dict)
    lost: dict[str | None, int] = field(default_factory=dict)
    """Members that could not be read, per head (``None``: of a head that cannot be told)."""

    def lost_of(self, key: str) -> int:
        """How many members ``key`` may have lost: its own, and every one of no head that can be told."""
        return self.lost.get(key, 0) + self.lost.get(None, 0)


def read_family(
    entries: Iterable[tuple[str | None, str | None, object]],
    head: tuple[str, Callable[[object], H]],
    member: tuple[str, Callable[[object], M]],
    failed_head: Callable[[str | None], None],
) -> Family[H, M]:
    """Sort ``(resource type, key, resource)`` entries into heads and members, each read on its own.

    A head or member is read by its reader (which raises ``ValueError`` or ``ShapeError`` when it cannot
    be used) and needs a key; a head that cannot be used is handed to ``failed_head``, a member is
    counted as lost. Entries of other types are ignored; the first head of a key wins.
    """
    family = Family[H, M]()
    for kind, key, resource in entries:
        try:
            if kind == head[0]:
                read = head[1](resource)
                if key is None:
                    raise ShapeError("no key")
                family.heads.setdefault(key, read)
            elif kind == member[0]:
                one = member[1](resource)
                if key is None:
                    raise ShapeError("no key")
                family.members.setdefault(key, []).append(one)
        except (ValueError, ShapeError):  # pydantic's ValidationError is a ValueError
            if kind == head[0]:
                failed_head(key)
            else:
                family.lost[key] = family.lost.get(key, 0) + 1
    return family
