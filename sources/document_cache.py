"""Parsed DDS (APD-DK) documents, shared across requests, bounded in entries and bytes (ADR 0014).

An XDS document never changes: a new version is a new document with a new unique ID that replaces
the old one in the index. So a document parsed once can serve every later request that is *told
by its own live index search* to use it. The cache never decides what a request gets: the index is
still searched per request, with the caller's blocks pushed down and filtered again, and only an
entry that search returned is looked up, by :data:`DocumentKey`. The caller checks again that the
document names the patient of that entry (``sources/dds.py``).

Bounds: at most ``max_entries`` documents and ``max_bytes`` bytes, each document counted at the
size of its raw XML (more than its parsed form holds); the least recently used goes first
(``cachetools.LRUCache``). Setting either bound to 0 turns the cache off. One cache per process,
used from the event loop's thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import LRUCache

from sources.apd import ApdDocument
from sources.base import MIB

DocumentKey = tuple[str, str, str]
"""(repository: the DDS endpoint's name, the document's unique ID, the path it is fetched from)."""


@dataclass(frozen=True, slots=True)
class DocumentCachePolicy:
    """How much the document cache may hold."""

    max_entries: int = 10_000
    """Documents kept at most (0: no cache)."""
    max_bytes: int = 64 * MIB
    """Raw document bytes kept at most (0: no cache)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    document: ApdDocument
    size: int


class DocumentCache:
    """Parsed documents by :data:`DocumentKey`, least recently used out first."""

    def __init__(self, policy: DocumentCachePolicy | None = None) -> None:
        self.policy = policy or DocumentCachePolicy()
        self._entries: LRUCache[DocumentKey, _Entry] = LRUCache(maxsize=max(1, self.policy.max_bytes), getsizeof=_size)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Raw bytes of the documents held."""
        return int(self._entries.currsize)

    def get(self, key: DocumentKey) -> ApdDocument | None:
        """The document parsed earlier under ``key``, or ``None``."""
        entry = self._entries.get(key)
        return entry.document if entry is not None else None

    def put(self, key: DocumentKey, document: ApdDocument, size: int) -> None:
        """Keep ``document`` (``size`` raw bytes), evicting the least recently used beyond the bounds."""
        if self.policy.max_entries <= 0 or not 0 < size <= self.policy.max_bytes:
            return
        self._entries[key] = _Entry(document, size)
        while len(self._entries) > self.policy.max_entries:
            self._entries.popitem()


def _size(entry: _Entry) -> int:
    return entry.size
