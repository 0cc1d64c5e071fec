"""Every adapter's every call is bounded in time (a total deadline) and in size (a streamed body limit).

The upstreams here are handlers whose bodies are generated as they are read, so the tests count the
bytes the "server" handed out: an endless body must stop at the limit, a body dripping one byte at a
time must stop at the deadline, however long it would go on. Each test runs three ways
(``tests/contract/loopback.py``): in-process through ``httpx.MockTransport``, where the count is exact,
and over real loopback HTTP through each of the gateway's transports, where socket buffers hold some
bytes the client never read (``SOCKET_SLACK``). The table of
calls is checked against every public call of every adapter class in ``sources/``, so a new adapter
or call cannot skip the shared path unnoticed.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

import sources
from sources.appointments import FhirAppointmentSource
from sources.base import SourceClient, SourceConfig
from sources.clinical import ClinicalSearch, Endpoint
from sources.consent import ConsentSource
from sources.cpr import CprSource
from sources.credentials import ClientCredentials, TokenProvider
from sources.dds import DdsAppointmentSource
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.fuldmagt import FuldmagtSource
from sources.jwks import JwksSource
from sources.minlog import MinLogSink
from sources.models import BlockKind, BlockRecord, MasterCardRecord, PeriodRecord, RelationQuery
from sources.plans import PlanSource
from sources.registers import RegistersSource
from sources.sor import SorSource
from sources.stamkort import StamkortSource
from sources.treatment_relation import TreatmentRelationSource
from sources.yderregister import YderregisterSource
from tests.contract.loopback import WAYS, Upstreams
from tests.records import access_record

HANS = "1403723705"
SOCKET_SLACK = 16 * 1024 * 1024
"""What loopback socket buffers (both ends, autotuned) and a transport's read buffer may hold: far below the
endless bodies, which would otherwise go on for ever."""
LIMIT = 64 * 1024
CHUNK = 4096
SEARCH = ClinicalSearch((HANS,))
BLOCK = BlockRecord("", HANS, BlockKind.PROFESSIONAL, PeriodRecord(), authorization_id="7QWRT")

Call = Callable[[SourceClient], Awaitable[object]]
CALLS: dict[str, Call] = {
    "CprSource.persons_for": lambda c: CprSource(c).persons_for([HANS]),
    "CprSource.read_persons": lambda c: CprSource(c).read_persons([HANS]),
    "CprSource.represented_by": lambda c: CprSource(c).represented_by("1908830938"),
    "YderregisterSource.gp_assignments_for": lambda c: YderregisterSource(c).gp_assignments_for([HANS]),
    "YderregisterSource.practices_for": lambda c: YderregisterSource(c).practices_for(["12345"]),
    "StamkortSource.master_cards_for": lambda c: StamkortSource(c).master_cards_for([HANS]),
    "StamkortSource.update_master_card": lambda c: StamkortSource(c).update_master_card(
        MasterCardRecord(HANS, "1", phone="70112233"), "1"
    ),
    "RegistersSource.registrations_for": lambda c: RegistersSource(c).registrations_for([HANS]),
    "RegistersSource.details_for": lambda c: RegistersSource(c).details_for([HANS]),
    "ConsentSource.blocks_for": lambda c: ConsentSource(c).blocks_for([HANS]),
    "ConsentSource.create_block": lambda c: ConsentSource(c).create_block(BLOCK),
    "ConsentSource.revoke_block": lambda c: ConsentSource(c).revoke_block(HANS, "block-1"),
    "TreatmentRelationSource.relations_for": lambda c: TreatmentRelationSource(c).relations_for(
        [RelationQuery(HANS, "CBDJ6", "378641000016007")]
    ),
    "SorSource.subunits_of": lambda c: SorSource(c).subunits_of(["378631000016009"]),
    "SorSource.sectors_of": lambda c: SorSource(c).sectors_of(["378631000016009"]),
    "FuldmagtSource.powers_for": lambda c: FuldmagtSource(c).powers_for("1709683160", [HANS]),
    "FuldmagtSource.powers_held_by": lambda c: FuldmagtSource(c).powers_held_by("1709683160"),
    "JwksSource.key_set": lambda c: JwksSource(c, "/jwks.json").key_set(),
    "MinLogSink.send": lambda c: MinLogSink(c).send([access_record()]),
    "FhirAppointmentSource.appointments_for": lambda c: FhirAppointmentSource(c, Endpoint("gp")).appointments_for(
        SEARCH
    ),
    "DdsAppointmentSource.appointments_for": lambda c: DdsAppointmentSource(c, Endpoint("dds")).appointments_for(
        SEARCH
    ),
    "PlanSource.care_plans_for": lambda c: PlanSource(c, Endpoint("plans")).care_plans_for(SEARCH),
    "PlanSource.goals_for": lambda c: PlanSource(c, Endpoint("plans")).goals_for(SEARCH),
    "PlanSource.conditions_for": lambda c: PlanSource(c, Endpoint("plans")).conditions_for(SEARCH),
    "TokenProvider.token": lambda c: TokenProvider(c, "/token", ClientCredentials("/token", "gateway", "s")).token(),
}


class Upstream:
    """A mock upstream answering every request with a body made as it is read; counts what it handed out."""

    def __init__(
        self,
        *,
        drip_s: float = 0.0,
        status: int = 200,
        headers: dict[str, str] | None = None,
        size: int | None = None,
    ) -> None:
        """``size`` is where the body ends (``None``: never)."""
        self.drip_s = drip_s
        self.size = size
        self.status = status
        self.headers = headers or {"content-type": "application/json"}
        self.sent = 0
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(self.status, headers=self.headers, content=self._body())

    async def _body(self) -> AsyncIterator[bytes]:
        while self.size is None or self.sent < self.size:
            piece = b" " if self.drip_s else b" " * CHUNK
            if self.size is not None:
                piece = piece[: self.size - self.sent]
            self.sent += len(piece)
            yield piece
            if self.drip_s:
                await asyncio.sleep(self.drip_s)

    async def client(
        self, upstreams: Upstreams, name: str = "upstream", *, timeout_s: float = 2.0, retries: int = 0
    ) -> SourceClient:
        config = SourceConfig(name, f"http://{name}.mock", timeout_s=timeout_s, retries=retries, max_body_bytes=LIMIT)
        return await upstreams.client(self.handler, config)


@pytest.fixture(params=WAYS)
async def upstreams(request: pytest.FixtureRequest) -> AsyncIterator[Upstreams]:
    made = Upstreams(request.param)
    yield made
    await made.aclose()


def slack(upstreams: Upstreams) -> int:
    """Bytes socket buffers may take beyond what the client read (none in-process)."""
    return SOCKET_SLACK if upstreams.loopback else 0


def adapter_calls() -> set[str]:
    """``Class.method`` for every public coroutine of every class in ``sources/`` built on a ``SourceClient``."""
    found: set[str] = set()
    for module_info in pkgutil.iter_modules(sources.__path__):
        module = importlib.import_module(f"sources.{module_info.name}")
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__ or cls is SourceClient:
                continue
            if "SourceClient" not in str(inspect.signature(cls.__init__)):
                continue
            for name, member in vars(cls).items():
                if inspect.iscoroutinefunction(member) and not name.startswith("_") and name != "aclose":
                    found.add(f"{cls.__name__}.{name}")
    return found


def test_the_table_holds_every_call_of_every_adapter() -> None:
    assert adapter_calls() == set(CALLS)


@pytest.mark.parametrize("call", list(CALLS))
async def test_an_endless_body_stops_at_the_limit_as_the_sources_invalid_response(
    call: str, upstreams: Upstreams
) -> None:
    upstream = Upstream()
    client = await upstream.client(upstreams, call.split(".")[0])

    with pytest.raises(SourceResponseInvalid) as caught:
        await CALLS[call](client)

    assert caught.value.source == client.name
    assert upstream.sent <= LIMIT + CHUNK + slack(upstreams)


@pytest.mark.parametrize("call", list(CALLS))
async def test_a_body_dripping_forever_stops_at_the_total_deadline(call: str, upstreams: Upstreams) -> None:
    upstream = Upstream(drip_s=0.01)
    client = await upstream.client(upstreams, call.split(".")[0], timeout_s=0.2)

    with pytest.raises(SourceTimeout) as caught:
        await CALLS[call](client)

    assert caught.value.source == client.name
    assert upstream.sent < 1000  # at 100 bytes a second for 0.2 s; the body never ends


async def test_retries_run_only_in_the_time_left(upstreams: Upstreams) -> None:
    started = 0

    async def hang(request: httpx.Request) -> httpx.Response:
        nonlocal started
        started += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    client = await upstreams.client(hang, SourceConfig("cpr", "http://cpr.mock", timeout_s=0.2, retries=3))

    with pytest.raises(SourceTimeout):
        await client.get_json("/fhir/Patient")
    assert started == 1


async def test_slow_failing_attempts_share_one_deadline(upstreams: Upstreams) -> None:
    attempts = 0

    async def slow_503(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.15)
        return httpx.Response(503)

    client = await upstreams.client(slow_503, SourceConfig("cpr", "http://cpr.mock", timeout_s=0.4, retries=3))

    # The deadline passes during an attempt (SourceTimeout), or the backoff before the next one would
    # not fit in the time left and the last failure stands (SourceUnavailable).
    with pytest.raises(SourceUnavailable):
        await client.get_json("/fhir/Patient")
    assert attempts < 4  # four attempts of 0.15 s cannot fit in 0.4 s


async def test_a_declared_length_above_the_limit_is_refused_before_any_byte_is_read(upstreams: Upstreams) -> None:
    upstream = Upstream(headers={"content-type": "application/json", "content-length": str(LIMIT + 1)}, size=LIMIT + 1)

    with pytest.raises(SourceResponseInvalid):
        await (await upstream.client(upstreams)).get_bytes("/document")
    assert upstream.sent <= slack(upstreams)


async def test_an_error_status_body_is_never_read(upstreams: Upstreams) -> None:
    upstream = Upstream(status=503)

    with pytest.raises(SourceUnavailable):
        await (await upstream.client(upstreams, retries=1)).get_json("/fhir/Patient")
    assert upstream.requests == 2
    # At most what the transport pulled before the answer was closed.
    assert upstream.sent <= 2 * CHUNK + 2 * slack(upstreams)


async def test_a_smaller_limit_per_call_applies_below_the_sources(upstreams: Upstreams) -> None:
    upstream = Upstream()

    with pytest.raises(SourceResponseInvalid):
        await (await upstream.client(upstreams)).get_bytes("/document", max_bytes=CHUNK)
    assert upstream.sent <= 2 * CHUNK + slack(upstreams)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply_nested"),
        pytest.param(b"[" + b"9" * 5000 + b"]", id="5000_digit_number"),
        pytest.param(b"\xff\xfe{", id="not_utf8"),
    ],
)
async def test_json_python_cannot_take_is_the_sources_invalid_response(body: bytes, upstreams: Upstreams) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    client = await upstreams.client(handler, SourceConfig("cpr", "http://cpr.mock", max_body_bytes=1024 * 1024))

    with pytest.raises(SourceResponseInvalid):
        await client.get_json("/fhir/Patient")
