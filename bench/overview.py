"""Benchmark: gateway overhead over the sources' latency, for the full overview query.

Starts the sandbox (10,000 generated patients) with a fixed latency on every source, and the
gateway in-process; sends the README's overview query for Hans with a citizen token, first one at a
time, then with 20 concurrent clients. Reports p50/p95 latency and the overhead over the critical
path (two dependent source waves: GP assignment → practice). ``make bench`` runs it.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from auth.access_log import SqliteAccessLog
from gateway.app import create_app
from gateway.settings import SANDBOX_APPOINTMENT_ENDPOINTS, SANDBOX_PLAN_ENDPOINTS, Settings, SourceSettings
from sandbox.population import build_population
from sandbox.server import SOURCE_APPS, ThreadedSandbox, start_in_thread

HANS = "1403723705"
LATENCY_MS = 20.0
WAVES = 2
OVERVIEW = """{ patient(cpr: "1403723705") { person { name address status } generalPractitioner { name phone }
  masterCard { phone relatives { name phone } dentist preferredLanguage healthInsuranceGroup
  registrations { treatmentWill organDonor } } } }"""
APPOINTMENTS = """{ patient(cpr: "1403723705") { appointments { complete
  list(first: 200) { totalCount nodes { id start status organisation { name kind } } }
  weeks { week days { date appointments { id } } } } } }"""
QUERIES = {"overview": OVERVIEW, "appointments": APPOINTMENTS}
"""Both have two dependent waves: CPR then practice / the DDS index then its documents."""
SINGLE = ("cpr", "yderregister", "stamkort", "registers", "consent", "treatment_relation", "sor", "fuldmagt", "minlog")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def settings_for(sandbox: ThreadedSandbox, tmp: Path) -> Settings:
    """The gateway pointed at the in-thread sandbox (every source and endpoint)."""
    sources = {name: SourceSettings(base_url=sandbox.url(name), timeout_s=5.0) for name in SINGLE}
    appointments = [
        {"name": n, "base_url": sandbox.url(n), "format": f, "kind": k, "organisation_sor": o, "timeout_s": 5.0}
        for n, f, k, o in SANDBOX_APPOINTMENT_ENDPOINTS
    ]
    plans = [{"name": n, "base_url": sandbox.url(n), "kind": k, "timeout_s": 5.0} for n, k in SANDBOX_PLAN_ENDPOINTS]
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp / 'a.db'}",
            "token_issuer": sandbox.url("issuer"),
            "token_jwks_url": sandbox.url("issuer") + "/.well-known/jwks.json",
            "graphiql": False,
            "appointment_endpoints": appointments,
            "plan_endpoints": plans,
            "rate_limit_requests": 10**6,  # the benchmark measures throughput, not the limits
            **sources,
        }
    )


async def run(query: str, sequential: int = 200, concurrent_clients: int = 20, per_client: int = 20) -> None:
    started = time.perf_counter()
    population = build_population(seed=2016, patients=10_000)
    print(f"population: {len(population.persons)} persons in {time.perf_counter() - started:.2f} s")
    sandbox = start_in_thread(population)
    for name in SOURCE_APPS:
        sandbox.control(name).faults.update({"latency_ms": LATENCY_MS})
    tmp = Path(tempfile.mkdtemp())
    settings = settings_for(sandbox, tmp)
    store = SqliteAccessLog(tmp / "a.db")
    app = create_app(settings, access_log=store)
    assert sandbox.sandbox.issuer is not None
    headers = {"authorization": "Bearer " + sandbox.sandbox.issuer.issue({"actor_kind": "citizen", "cpr": HANS})}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client,
    ):

        async def one() -> float:
            t = time.perf_counter()
            response = await client.post("/graphql", json={"query": QUERIES[query]}, headers=headers)
            assert response.status_code == 200 and "errors" not in response.json(), response.text
            return (time.perf_counter() - t) * 1000

        await one()
        serial = [await one() for _ in range(sequential)]

        async def client_loop() -> list[float]:
            return [await one() for _ in range(per_client)]

        t = time.perf_counter()
        batches = await asyncio.gather(*(client_loop() for _ in range(concurrent_clients)))
        wall = time.perf_counter() - t
    floor = LATENCY_MS * WAVES
    parallel = [v for batch in batches for v in batch]
    print(f"query {query}: source latency {LATENCY_MS:.0f} ms x {WAVES} dependent waves = floor {floor:.0f} ms")
    for label, values in (("1 client", serial), (f"{concurrent_clients} clients", parallel)):
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"{label:>11}: n={len(values)} p50 {p50:.1f} ms p95 {p95:.1f} ms  overhead p50 {p50 - floor:+.1f} ms")
    print(f"throughput with {concurrent_clients} clients: {len(parallel) / wall:.0f} requests/s")
    sandbox.stop()
    await store.aclose()


if __name__ == "__main__":
    for name in sys.argv[1:] or list(QUERIES):
        asyncio.run(run(name))
