"""Fixtures every test package may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import sources.clock
from tests.clock import Clock
from tests.entry_points import EntryPoint


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The sources' breakers and caches on a test clock (``sources.clock.monotonic``)."""
    clock = Clock()
    monkeypatch.setattr(sources.clock, "monotonic", clock)
    yield clock


@pytest.fixture
def entry_point(request: pytest.FixtureRequest) -> EntryPoint:
    """How the test's operations select patients: ``patient(cpr:)``, or each in turn where the test is
    marked :data:`tests.entry_points.BOTH` (ADR 0022)."""
    chosen: EntryPoint = getattr(request, "param", EntryPoint.PATIENT)
    return chosen
