"""The monotonic clock of the sources' breakers and caches, in seconds.

One seam for tests: patch ``sources.clock.monotonic`` to move every breaker's and cache's time without
waiting (callers look it up on each use).
"""

from __future__ import annotations

import time


def monotonic() -> float:
    """Seconds on a clock that never goes back (``time.monotonic``)."""
    return time.monotonic()
