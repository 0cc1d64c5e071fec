"""Reference data kept across requests for a short TTL (ADR 0014): practices by ydernummer and SOR
sub-units. Requests are counted at the simulated registers; time moves on a test clock."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from sandbox import sor
from sandbox.clinical import NEPHROLOGY, OUH, REGION_SYDDANMARK
from sandbox.personas import HASSERIS, VALDEMARSGADE
from sandbox.population import Population
from sandbox.yderregister import create_app
from sources.errors import SourceUnavailable
from sources.models import PracticeRecord
from sources.reference_cache import ReferenceCache
from sources.sor import SorSource
from sources.yderregister import YderregisterSource
from tests.clock import Clock
from tests.contract.conftest import MockClientFactory, SandboxClientFactory
from tests.contract.test_yderregister_source import _broken_bundle

TTL = 300.0


def _asked(controlled: object) -> list[str]:
    """The ydernumre or SOR codes of each request, as sent."""
    requests = controlled.recorder.requests  # type: ignore[attr-defined]
    return [parse_qs(r.query)["identifier"][0].split("|", 1)[1] for r in requests]


async def test_a_practice_is_asked_for_once_within_its_ttl(
    population: Population, sandbox_client: SandboxClientFactory, clock: Clock
) -> None:
    client, controlled = sandbox_client(create_app(population), "yderregister")
    source = YderregisterSource(client, ReferenceCache(TTL, 100))

    first = await source.practices_for([HASSERIS])
    both = await source.practices_for([VALDEMARSGADE, HASSERIS])
    clock.now += TTL
    again = await source.practices_for([HASSERIS])

    assert _asked(controlled) == [HASSERIS, VALDEMARSGADE, HASSERIS]
    assert list(both) == [VALDEMARSGADE, HASSERIS]
    assert both[HASSERIS] == first[HASSERIS] == again[HASSERIS]
    assert isinstance(both[VALDEMARSGADE], PracticeRecord)


async def test_an_unknown_ydernummer_is_kept_as_unknown(
    population: Population, sandbox_client: SandboxClientFactory, clock: Clock
) -> None:
    client, controlled = sandbox_client(create_app(population), "yderregister")
    source = YderregisterSource(client, ReferenceCache(TTL, 100))

    for _ in range(2):
        assert await source.practices_for(["999999"]) == {"999999": None}

    assert len(controlled.recorder.requests) == 1


async def test_a_practice_with_problems_or_an_error_is_never_kept(
    population: Population, mock_client: MockClientFactory, clock: Clock
) -> None:
    answers = [
        httpx.Response(200, json=_broken_bundle(population, "role_without_display_name")),
        httpx.Response(503),
        httpx.Response(200, json=_broken_bundle(population, "role_without_display_name")),
    ]
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answers[len(asked) - 1]

    source = YderregisterSource(mock_client(handler, "yderregister"), ReferenceCache(TTL, 100))

    partial = (await source.practices_for([HASSERIS]))[HASSERIS]
    with pytest.raises(SourceUnavailable):
        await source.practices_for([HASSERIS])
    await source.practices_for([HASSERIS])

    assert isinstance(partial, PracticeRecord) and partial.problems
    assert len(asked) == 3


async def test_sub_units_are_asked_for_once_within_their_ttl(
    sandbox_client: SandboxClientFactory, clock: Clock
) -> None:
    client, controlled = sandbox_client(sor.create_app(Population(seed=1)), "sor")
    source = SorSource(client, ReferenceCache(TTL, 100))

    first = await source.subunits_of([OUH])
    more = await source.subunits_of([NEPHROLOGY, OUH, REGION_SYDDANMARK])
    clock.now += TTL
    again = await source.subunits_of([OUH])

    assert _asked(controlled) == [OUH, f"{NEPHROLOGY},{REGION_SYDDANMARK}", OUH]
    assert more[OUH] == first[OUH] == again[OUH]
    assert list(more) == [NEPHROLOGY, OUH, REGION_SYDDANMARK]


async def test_a_failed_sor_answer_is_never_kept(mock_client: MockClientFactory, clock: Clock) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(503)

    source = SorSource(mock_client(handler, "sor"), ReferenceCache(TTL, 100))
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await source.subunits_of([OUH])

    assert len(asked) == 2


async def test_a_ttl_of_zero_keeps_nothing(sandbox_client: SandboxClientFactory, clock: Clock) -> None:
    client, controlled = sandbox_client(sor.create_app(Population(seed=1)), "sor")
    source = SorSource(client, ReferenceCache(0, 100))

    for _ in range(3):
        await source.subunits_of([OUH])

    assert len(controlled.recorder.requests) == 3
