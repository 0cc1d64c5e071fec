"""Reference data that changes slowly, kept across requests for a short time (ADR 0014).

:class:`ReferenceCache` holds values by key for ``ttl_s`` seconds after they were fetched, at most
``max_entries`` of them (``cachetools.TTLCache``: the oldest out first when full), on the clock of
:mod:`sources.clock`. Adapters use it for organisation data that is the same for every caller and
patient: a practice by ydernummer (Yderregister), the sub-units of an organisation and its sector (SOR). They
store only complete answers: never an error, never a record with problems. A TTL of 0 turns a cache
off. Decision inputs about a patient (blocks, treatment relations, powers of attorney, custody) are
never kept here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import TTLCache

from sources import clock

V = TypeVar("V")

_MISSING = object()


@dataclass(frozen=True, slots=True)
class ReferenceCachePolicy:
    """How long reference data is kept, per kind, and how many entries each cache holds."""

    practice_ttl_s: float = 300.0
    """A practice by ydernummer (name, address, phone, doctors)."""
    sor_ttl_s: float = 300.0
    """The sub-units of an organisation in the SOR hierarchy."""
    max_entries: int = 10_000


class ReferenceCache(Generic[V]):
    """Values by key for ``ttl_s`` seconds; ``ttl_s <= 0`` or ``max_entries <= 0`` keeps nothing."""

    def __init__(self, ttl_s: float, max_entries: int) -> None:
        self._policy = (ttl_s, max_entries)
        self._entries: TTLCache[str, V] | None = None
        if ttl_s > 0 and max_entries > 0:
            self._entries = TTLCache(maxsize=max_entries, ttl=ttl_s, timer=lambda: clock.monotonic())

    def cached(self, keys: Iterable[str]) -> tuple[dict[str, V], list[str]]:
        """The values still kept for ``keys``, and the keys to fetch (in the order given)."""
        found: dict[str, V] = {}
        missing: list[str] = []
        for key in keys:
            value = self._entries.get(key, _MISSING) if self._entries is not None else _MISSING
            if value is _MISSING:
                missing.append(key)
            else:
                found[key] = value  # type: ignore[assignment]
        return found, missing

    def like(self) -> ReferenceCache[Any]:
        """A new, empty cache with this one's TTL and size (for another kind of value of the same source)."""
        return ReferenceCache[Any](*self._policy)

    def keep(self, key: str, value: V) -> None:
        """Keep ``value`` for ``key`` from now for the cache's TTL."""
        if self._entries is not None:
            self._entries[key] = value
