"""A test clock for the sources' breakers and caches (the ``clock`` fixture in ``tests/conftest.py``)."""

from __future__ import annotations


class Clock:
    """A clock that moves only when a test moves it (``clock.now += seconds``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
