"""Fixtures every test package may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sources.clock
from tests.clock import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The sources' breakers and caches on a test clock (``sources.clock.monotonic``)."""
    clock = Clock()
    monkeypatch.setattr(sources.clock, "monotonic", clock)
    yield clock
