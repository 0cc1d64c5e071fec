"""The bench's report: the measured tables, the targets of issue 11 as ratios, and the machine's load.

Targets (all against the fast upstream, the gateway as shipped with one worker unless named):

- overview at 50 clients: p50 ≤ 1.10x and p99 ≤ 1.5x the critical path (2 wavesx the latency);
- gateway CPU per overview request ≤ 1.2x the peer's on the same transport (50 clients);
- gateway throughput ≥ 1.5x the peer on httpx's default transport (overview, 50 clients);
- appointments at 10 clients: upstream requests per query ≤ 1 index search + 1 per FHIR endpoint
  (every document cached), and p50 ≤ 1.2x its critical path (one wave when no document is fetched,
  two when documents are);
- cost per appointment linear from 10 to 10,000: the CPU each added appointment costs over the last
  step (1,000 → 10,000) ≤ 1.25x what it costs over the step before (100 → 1,000);
- RSS flat over the soak: the last sample ≤ 1.05x the second (after warm-up).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.config import APPOINTMENT_ENDPOINTS, QUERIES, TRANSPORTS, BenchConfig
from bench.measure import Sample
from bench.scaling import ScalingRow, growth


@dataclass(frozen=True)
class Row:
    """The medians of one (upstream, query, contender, clients) case."""

    upstream: str
    query: str
    contender: str
    key: str
    clients: int
    sample: Sample

    def cells(self) -> list[str]:
        s = self.sample
        return [
            self.upstream, self.query, self.contender, str(self.clients), f"{s.rps:,.0f}", _fig(s.p50_ms, ",.0f"),
            _fig(s.p95_ms, ",.0f"), _fig(s.p99_ms, ",.0f"), _fig(s.cpu_ms, ".1f"), f"{s.rss_mib:.0f}",
            _fig(s.upstream_per_query, ".1f"), f"{100 * s.failed:.1f}%", f"{s.upstream_cpu:.2f}",
        ]  # fmt: skip

    def line(self) -> str:
        return " | ".join(self.cells())


def _fig(value: float, spec: str) -> str:
    """A figure, or a dash where nothing completed (latency) or nothing was handled in the window (costs)."""
    return "-" if math.isnan(value) else format(value, spec)


HEADER = [
    "upstream", "query", "contender", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms/req",
    "peak RSS MiB", "upstream req/query", "failed", "upstream cores",
]  # fmt: skip


@dataclass(frozen=True)
class Machine:
    """Load on the machine: load averages and the share of all cores busy (everyone's work) over the run."""

    cores: int
    load_before: str
    load_after: str = ""
    busy: float = 0.0
    _jiffies: tuple[int, int] = (0, 0)

    @staticmethod
    def now() -> Machine:
        return Machine(os.cpu_count() or 1, _loadavg(), _jiffies=_cpu_jiffies())

    def until_now(self) -> Machine:
        busy0, total0 = self._jiffies
        busy1, total1 = _cpu_jiffies()
        return replace(self, load_after=_loadavg(), busy=(busy1 - busy0) / max(total1 - total0, 1))


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu_jiffies() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def find(rows: list[Row], query: str, key: str, clients: int, upstream: str = "fast") -> Sample | None:
    return next(
        (r.sample for r in rows if (r.upstream, r.query, r.key, r.clients) == (upstream, query, key, clients)), None
    )


def targets(config: BenchConfig, rows: list[Row], extra: dict[str, Any]) -> list[list[str]]:
    """Each target: what, the measured figure, the ratio, the limit, pass or fail (``n/a`` when not measured)."""
    wave = config.latency_ms
    results: list[list[str]] = []

    def add(what: str, measured: str, ratio: float | None, limit: float, at_most: bool = True) -> None:
        if ratio is None:
            results.append([what, "not measured", "", f"{'≤' if at_most else '≥'} {limit:g}", "n/a"])
            return
        ok = ratio <= limit if at_most else ratio >= limit
        results.append(
            [what, measured, f"{ratio:.2f}", f"{'≤' if at_most else '≥'} {limit:g}", "pass" if ok else "FAIL"]
        )

    overview = find(rows, "overview", "gateway", 50)
    path = QUERIES["overview"].waves * wave
    add(
        "overview p50, 50 clients / critical path",
        _ms(overview, "p50_ms", path),
        _ratio(overview, "p50_ms", path),
        1.10,
    )
    add(
        "overview p99, 50 clients / critical path", _ms(overview, "p99_ms", path), _ratio(overview, "p99_ms", path), 1.5
    )
    gateways = [("gateway", config.shipped_transport)]
    if config.transport_variable:
        gateways += [(f"gateway-{t}", t) for t in TRANSPORTS if t != config.shipped_transport]
    for key, transport in gateways:
        mine, peer = find(rows, "overview", key, 50), find(rows, "overview", f"peer-{transport}", 50)
        ratio = mine.cpu_ms / peer.cpu_ms if mine and peer else None
        measured = f"{mine.cpu_ms:.1f} vs {peer.cpu_ms:.1f} ms" if mine and peer else ""
        add(f"CPU/request, {key} vs peer on {transport}", measured, ratio, 1.2)
    peer = find(rows, "overview", "peer-httpx", 50)
    ratio = overview.rps / peer.rps if overview and peer else None
    measured = f"{overview.rps:,.0f} vs {peer.rps:,.0f} req/s" if overview and peer else ""
    add("throughput, gateway vs peer on httpx, 50 clients", measured, ratio, 1.5, at_most=False)
    appointments = find(rows, "appointments", "gateway", 10)
    floor = 1 + APPOINTMENT_ENDPOINTS
    if appointments:
        per = appointments.upstream_per_query
        add(f"appointments upstream req/query / {floor} (warm cache)", f"{per:.1f}", per / floor, 1.0)
        path = (1 if per <= floor + 0.5 else 2) * wave
        add(
            "appointments p50, 10 clients / critical path",
            _ms(appointments, "p50_ms", path),
            appointments.p50_ms / path,
            1.2,
        )
    scaling: list[ScalingRow] = extra.get("scaling", [])
    steps = growth(scaling)
    span = "→".join(f"{s.appointments:,}" for s in scaling[-3:])
    measured = f"{steps[1]:.0f} vs {steps[0]:.0f} µs/appointment" if steps else ""
    add(
        f"CPU per added appointment {span}: last step / step before",
        measured,
        steps[1] / steps[0] if steps else None,
        1.25,
    )
    soak: list[tuple[float, float]] = extra.get("soak", [])
    if len(soak) >= 2:
        ratio = soak[-1][1] / soak[1][1]
        add(
            f"RSS over a {soak[-1][0]:.0f} s soak (target: 600 s): last / warm",
            f"{soak[1][1]:.0f} → {soak[-1][1]:.0f} MiB",
            ratio,
            1.05,
        )
    else:
        add("RSS over the soak: last / warm", "", None, 1.05)
    return results


def _ms(sample: Sample | None, field: str, path: float) -> str:
    return f"{getattr(sample, field):,.0f} ms / {path:.0f} ms" if sample else ""


def _ratio(sample: Sample | None, field: str, path: float) -> float | None:
    return getattr(sample, field) / path if sample else None


def render(
    config: BenchConfig,
    rows: list[Row],
    extra: dict[str, Any],
    machine: Machine,
    command: str,
    notes: list[str],
    elapsed_s: float,
) -> str:
    """The whole report as Markdown."""
    parts = [
        f"# make bench, {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"Command: `{command}` ({elapsed_s / 60:.1f} min). Sources at {config.latency_ms:g} ms; "
        f"{config.rounds} rounds of {config.duration_s:g} s, medians; the gateway ships with "
        f"{config.shipped_transport}"
        + (f" (setting {config.transport_variable})" if config.transport_variable else "")
        + ".",
        f"Machine: {machine.cores} cores; load average {machine.load_before} before, {machine.load_after} after; "
        f"all cores {100 * machine.busy:.0f}% busy over the run (the bench's own processes included).",
        *notes,
        "## Targets, as ratios in one run",
        table(["target", "measured", "ratio", "limit", "result"], targets(config, rows, extra)),
        "## Every case",
        table(HEADER, [r.cells() for r in rows]),
    ]
    scaling: list[ScalingRow] = extra.get("scaling", [])
    if scaling:
        parts += [
            "## Appointments per patient (fast upstream, gateway as shipped, one request at a time)",
            table(
                ["appointments", "upstream req/query", "CPU ms/req", "CPU µs/appointment", "p50 ms", "peak RSS MiB"],
                [
                    [f"{s.appointments:,}", f"{s.upstream_per_query:.0f}", f"{s.cpu_ms:,.1f}",
                     f"{s.cpu_us_per_appointment:,.0f}", f"{s.p50_ms:,.0f}", f"{s.rss_mib:.0f}"]
                    for s in scaling
                ],
            ),
        ]  # fmt: skip
    soak: list[tuple[float, float]] = extra.get("soak", [])
    if soak:
        series = ", ".join(f"{t:.0f} s: {m:.0f}" for t, m in soak)
        parts += [
            "## Soak (fast upstream, gateway, 10 clients, overview and appointments in turn)",
            f"RSS MiB: {series}",
        ]
    return "\n\n".join(parts) + "\n"
