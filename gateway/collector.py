"""The cyclic garbage collector of a serving gateway: what start-up built is not scanned again (ADR 0027).

CPython's collector walks every tracked object of a generation when it collects it. A started gateway
holds ~150,000 tracked objects that live as long as the process (modules, the schema, adapters,
settings); each full collection walked all of them again, and requests trigger full collections
often: measured at 2.0 ms of collector CPU per overview request and 6.0 ms per appointments request
(``gc.callbacks`` with the thread's CPU clock; 50 and 10 clients, fast upstream). ``gc.freeze()``
moves every object alive at that moment to a permanent generation the collector ignores; the same
requests then cost 0.7 and 1.1 ms of collector CPU. Frozen objects are still freed by reference
counting; only a frozen object that later becomes part of a garbage cycle is never reclaimed, which
the start-up's long-lived objects do not do (and :func:`frozen_start_up` unfreezes at shutdown, so
an application started and stopped again, as tests do, leaves nothing behind).

The other half is not making cyclic garbage per request: :class:`gateway.schema.DecidedExecutor`
keeps graphql-core's executor out of a reference cycle, so a finished request's execution state
(its context, loaders, records) is freed by reference counting as soon as the answer is built.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_start_up() -> Iterator[None]:
    """Leave everything tracked so far out of the collector's scans while the block runs (the serving)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
