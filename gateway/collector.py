"""The cyclic garbage collector of a serving gateway (ADR 0027): start-up frozen, young collections rarer.

CPython's collector walks every tracked object of a generation when it collects it. A started gateway
holds ~150,000 tracked objects that live as long as the process (modules, the schema, adapters,
settings), and with the default thresholds requests set off a young collection every ~700 net
allocations and a full one every hundred of those. Measured (``gc.callbacks`` with the thread's CPU
clock, overview at 50 clients, fast upstream): 2.0 ms of collector CPU per request, mostly full
collections walking start-up's objects again.

While the application serves (:func:`tuned_collector`, its lifespan):

- everything start-up made is frozen (``gc.freeze()``): moved to a permanent generation that no
  collection walks. Frozen objects are still freed by reference counting; only one that later becomes
  part of a garbage cycle would never be reclaimed, which start-up's long-lived objects do not do;
- a young collection runs after :data:`YOUNG_THRESHOLD` net allocations instead of 700. A request
  leaves no cyclic garbage (:mod:`auth.execution`, ``SourceClient``; a test counts it), so a young
  collection finds only the objects of requests in flight, and running it less often only makes it
  rarer: 0.85 → 0.30 ms of collector CPU per request, each young collection ~6 ms.

At shutdown the thresholds are put back and start-up is unfrozen, so an application started and
stopped again in the same process (as tests do) leaves nothing behind.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 10_000
"""Net allocations of tracked objects between two young collections (CPython's default: 700)."""

_serving: list[tuple[int, int, int]] = []
"""The thresholds found by each application serving now, the first one's first (apps may overlap in tests)."""


@contextmanager
def tuned_collector() -> Iterator[None]:
    """Freeze what is tracked so far and make young collections rarer while the block runs (the serving).

    When the last application serving in the process stops, the thresholds the first one found are put
    back and everything is unfrozen.
    """
    young, middle, old = gc.get_threshold()
    _serving.append((young, middle, old))
    gc.freeze()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)
    try:
        yield
    finally:
        first = _serving[0]
        _serving.pop()
        if not _serving:
            gc.set_threshold(*first)
            gc.unfreeze()
