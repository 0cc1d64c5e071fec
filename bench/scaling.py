"""How the gateway's cost grows with appointments per patient (10 → 10,000).

Each scaling patient (:mod:`bench.sandbox_process`) has only the bench's appointments, spread over the
five FHIR endpoints; the query lists them and lays every one out in weeks, so the gateway fetches
and maps every page. The requests go one after another from the bench's own process until
``BENCH_DURATION_S`` (at least 3 requests), so that CPU and upstream requests are read over whole
requests only: at 10,000 appointments one request takes seconds.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.config import BenchConfig, Contender, Query
from bench.contenders import answer
from bench.measure import PeakRss, Upstream, progress
from bench.procs import Server, cpu_seconds
from bench.upstream import Sandbox

MIN_REQUESTS = 3


def scaling_query(cpr: str) -> Query:
    """Every appointment of ``cpr`` in the default window: the first 50 listed, all of them in weeks."""
    graphql = (
        f'{{ patient(cpr: "{cpr}") {{ appointments {{ complete list(first: 50) {{ totalCount nodes {{ id start }} }} '
        "weeks { week days { date appointments { id } } } } } }"
    )
    return Query(f"scaling {cpr}", graphql, {"actor_kind": "citizen", "cpr": cpr}, 1)


@dataclass(frozen=True)
class ScalingRow:
    """The cost of one patient's appointments query."""

    appointments: int
    upstream_per_query: float
    cpu_ms: float
    p50_ms: float
    rss_mib: float
    handled: int

    @property
    def cpu_us_per_appointment(self) -> float:
        return 1000 * self.cpu_ms / max(self.appointments, 1)


def scaling_rows(
    config: BenchConfig,
    server: Server,
    upstream: Upstream,
    tokens: dict[str, str],
    sandbox: Sandbox,
) -> list[ScalingRow]:
    """One series of sequential requests per appointment count, smallest first."""
    rows = []
    gateway = Contender("gateway", "gateway", "shipped")
    for count, cpr in sorted(sandbox.scaling.items()):
        query, token = scaling_query(cpr), tokens[f"scaling {count}"]
        data: dict[str, Any] = answer(server, gateway, query, token)
        appointments = data["patient"]["appointments"]
        if not appointments["complete"] or appointments["list"]["totalCount"] != count:
            raise RuntimeError(f"the scaling patient with {count} appointments answered {appointments['list']}")
        upstream.clear()
        peak, cpu, timings = PeakRss(server.pid), cpu_seconds(server.pid), list[float]()
        until = time.monotonic() + config.duration_s
        while time.monotonic() < until or len(timings) < MIN_REQUESTS:
            started = time.monotonic()
            answer(server, gateway, query, token)
            timings.append(1000 * (time.monotonic() - started))
        spent, sent = cpu_seconds(server.pid) - cpu, upstream.total()
        n = len(timings)
        rows.append(ScalingRow(count, sent / n, 1000 * spent / n, statistics.median(timings), peak.stop() / 1024, n))
        progress(f"scaling: {rows[-1]}")
    return rows


def growth(rows: list[ScalingRow]) -> tuple[float, float] | None:
    """Marginal CPU µs per appointment over the step before the last and over the last (linear: about equal)."""
    if len(rows) < 3:
        return None
    before, middle, last = rows[-3:]
    low = 1000 * (middle.cpu_ms - before.cpu_ms) / (middle.appointments - before.appointments)
    high = 1000 * (last.cpu_ms - middle.cpu_ms) / (last.appointments - middle.appointments)
    return low, high
