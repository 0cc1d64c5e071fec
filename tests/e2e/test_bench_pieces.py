"""The pieces of ``make bench`` work: the hand-written peer, and the fast upstream replaying the sandbox.

Nothing here is timed. The peer must answer the overview exactly as the gateway does, with the same
five upstream calls and one access record; the fast upstream (nginx, when installed) must give the
gateway and the peer the same answers the sandbox gave, and count what it served.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import peer
from bench.config import QUERIES
from bench.contenders import PEER_SOURCES
from bench.measure import handled_requests
from bench.procs import free_port_block, start
from bench.sandbox_process import ports_from
from bench.upstream import Answer, nginx_available, record_answers, spellings, write_nginx_config
from gateway.settings import SANDBOX_APPOINTMENT_ENDPOINTS, EndpointSettings, SourceSettings
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from tests.e2e.conftest import HANS, KOL, SINGLE_SOURCES, Gateway, gateway_with, recorded

OVERVIEW = QUERIES["overview"]


@asynccontextmanager
async def running_peer(url: Any, issuer: str, database: Path, transport: str) -> AsyncIterator[httpx.AsyncClient]:
    app = peer.create_app({name: url(name) for name in PEER_SOURCES}, issuer, database, transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://peer.test") as client,
    ):
        yield client


class Recorders:
    """The in-thread sandbox as :class:`bench.upstream.Recorded`."""

    def __init__(self, sandbox: ThreadedSandbox) -> None:
        self.sandbox = sandbox

    def url(self, name: str) -> str:
        return self.sandbox.url(name)

    def requests(self, name: str) -> list[dict[str, str]]:
        return [asdict(r) for r in self.sandbox.control(name).recorder.requests]


def data_requests(sandbox: ThreadedSandbox) -> int:
    return sum(recorded(sandbox, name) for name in SOURCE_APPS if name != "minlog")


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_the_peer_answers_the_overview_as_the_gateway_does_with_five_calls_and_one_record(
    gateway: Gateway, sandbox: ThreadedSandbox, tmp_path: Path, transport: str
) -> None:
    expected = await gateway.graphql(OVERVIEW.graphql, gateway.citizen(HANS))
    sandbox.control("issuer").recorder.clear()
    for name in SOURCE_APPS:
        sandbox.control(name).recorder.clear()
    async with running_peer(sandbox.url, sandbox.url("issuer"), tmp_path / "peer.db", transport) as client:
        response = await client.get(
            f"/patients/{HANS}/overview", headers={"authorization": f"Bearer {gateway.citizen(HANS)}"}
        )
    assert response.status_code == 200
    assert response.json() == {"data": expected["data"]}
    assert {name: recorded(sandbox, name) for name in PEER_SOURCES} == {
        "cpr": 1, "yderregister": 2, "stamkort": 1, "registers": 1
    }  # fmt: skip
    assert handled_requests(tmp_path / "peer.db") == 1


async def test_the_peer_refuses_another_patient_and_a_missing_token_before_any_upstream_call(
    gateway: Gateway, sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    async with running_peer(sandbox.url, sandbox.url("issuer"), tmp_path / "peer.db", "httpx") as client:
        for name in SOURCE_APPS:
            sandbox.control(name).recorder.clear()
        other = await client.get(
            f"/patients/{KOL}/overview", headers={"authorization": f"Bearer {gateway.citizen(HANS)}"}
        )
        missing = await client.get(f"/patients/{HANS}/overview")
        forged = await client.get(f"/patients/{HANS}/overview", headers={"authorization": "Bearer e30.e30.c2ln"})
    assert (other.status_code, missing.status_code, forged.status_code) == (403, 401, 401)
    assert data_requests(sandbox) == 0
    assert handled_requests(tmp_path / "peer.db") == 0


def test_an_answer_is_keyed_by_both_spellings_of_its_target() -> None:
    as_httpx = "/fhir/Patient?identifier=urn%3Aoid%3A1.2.208.176.1.2%7C1403723705%2C2309510372"
    as_aiohttp = "/fhir/Patient?identifier=urn:oid:1.2.208.176.1.2%7C1403723705,2309510372"
    # whichever transport the recording gateway used, both transports' requests find the answer
    assert set(spellings(as_httpx)) == set(spellings(as_aiohttp)) == {as_httpx, as_aiohttp}
    assert spellings("/sikrede?cpr=1403723705") == ["/sikrede?cpr=1403723705"]


def test_links_to_the_sandbox_inside_answers_point_at_the_fast_upstream(tmp_path: Path) -> None:
    sandbox = {name: f"http://127.0.0.1:{4000 + i}" for i, name in enumerate(ports_from(0))}
    body = b'{"link": [{"url": "http://127.0.0.1:4001/fhir/Patient?x=1"}], "other": "http://127.0.0.1:40011/"}'
    write_nginx_config(
        tmp_path,
        [Answer("cpr", "GET", "/fhir/Patient?x=1", "application/fhir+json", body)],
        sandbox.__getitem__,
        30000,
        50,
    )
    served = (tmp_path / "answers" / "0.t0").read_bytes()
    assert served == body.replace(b":4001/", f":{ports_from(30000)['cpr']}/".encode())


@pytest.fixture
def readable_dir() -> Iterator[Path]:
    """A directory nginx's unprivileged workers can read (pytest's ``tmp_path`` is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="bench-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.skipif(not nginx_available(), reason="needs nginx and libnginx-mod-http-echo (apt-get)")
async def test_the_fast_upstream_gives_the_gateway_and_the_peer_what_the_sandbox_gave(
    gateway: Gateway, sandbox: ThreadedSandbox, tmp_path: Path, readable_dir: Path
) -> None:
    doctor = gateway.token(actor_kind="professional", authorization_id="CBDJ6", organisation_sor="378641000016007")
    queries = [(q.graphql, gateway.citizen(HANS)) for q in (QUERIES["overview"], QUERIES["appointments"])]
    queries.append((QUERIES["two patients"].graphql, doctor))
    expected = [await gateway.graphql(query, token) for query, token in queries]
    asked = data_requests(sandbox)
    answers = record_answers(Recorders(sandbox))
    base = free_port_block(max(ports_from(0).values()) + 1)
    config = write_nginx_config(readable_dir, answers, sandbox.url, base, latency_ms=0)
    fast = ports_from(base)

    def url(name: str) -> str:
        return f"http://127.0.0.1:{fast[name]}"

    nginx = start(
        "nginx",
        ["nginx", "-c", str(config), "-p", str(readable_dir), "-g", "daemon off;"],
        url("cpr"),
        tmp_path / "out",
    )
    try:
        overrides: dict[str, Any] = {
            name: SourceSettings(base_url=url(name), retries=0) for name in SINGLE_SOURCES if name != "minlog"
        }
        overrides["appointment_endpoints"] = [
            EndpointSettings(name=n, base_url=url(n), format=f, kind=k, organisation_sor=o, retries=0)
            for n, f, k, o in SANDBOX_APPOINTMENT_ENDPOINTS
        ]
        for name in SOURCE_APPS:
            sandbox.control(name).recorder.clear()
        async for replayed in gateway_with(sandbox, tmp_path / "replayed", **overrides):
            assert [await replayed.graphql(query, token) for query, token in queries] == expected
        async with running_peer(url, sandbox.url("issuer"), tmp_path / "peer.db", "aiohttp") as client:
            response = await client.get(
                f"/patients/{HANS}/overview", headers={"authorization": f"Bearer {gateway.citizen(HANS)}"}
            )
        assert response.json() == {"data": expected[0]["data"]}
        assert data_requests(sandbox) == 0
        log = (readable_dir / "nginx-access.log").read_text().splitlines()
        lines = [line for line in log if not line.endswith(" GET /")]  # start() asked for "/" until nginx answered
        assert all(line.split()[1] == "200" for line in lines)
        assert len(lines) == asked + 5
    finally:
        nginx.stop()
