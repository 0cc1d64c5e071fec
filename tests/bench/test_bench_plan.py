"""What ``make bench`` measures and how it judges the targets (no load is generated here)."""

from __future__ import annotations

import math
from datetime import timedelta

from bench.config import QUERIES, BenchConfig, from_environment
from bench.measure import Sample, median
from bench.report import Row, targets
from bench.sandbox_process import add_scaling_patients
from bench.scaling import ScalingRow
from sandbox.population import build_population


def sample(**figures: float) -> Sample:
    base = {"rps": 100.0, "p50_ms": 105.0, "p95_ms": 120.0, "p99_ms": 140.0, "cpu_ms": 5.0, "rss_mib": 100.0,
            "upstream_per_query": 5.0, "failed": 0.0, "upstream_cpu": 0.1, "handled": 400}  # fmt: skip
    return Sample(**{**base, **figures})  # type: ignore[arg-type]


def test_every_case_has_the_shipped_gateway_and_the_sandbox_never_runs_two_workers() -> None:
    config = BenchConfig()
    for upstream in ("fast", "sandbox"):
        for query, _, among in config.cases(upstream):
            assert among[0].key == "gateway"
            assert query.name == "overview" or [c.key for c in among] == ["gateway"]
            assert upstream == "fast" or all(c.workers == 1 for c in among)
    overview = [among for query, clients, among in config.cases("fast") if query.name == "overview" and clients == 50]
    assert [c.key for c in overview[0]] == ["gateway", "gateway-httpx", "gateway-2w", "peer-httpx", "peer-aiohttp"]


def test_a_quick_run_is_a_subset_and_the_transport_setting_adds_a_gateway_per_transport() -> None:
    full, quick = BenchConfig(), from_environment({"BENCH_QUICK": "1"})
    for upstream in ("fast", "sandbox"):
        assert {(q.name, c) for q, c, _ in quick.cases(upstream)} < {(q.name, c) for q, c, _ in full.cases(upstream)}
    assert (quick.rounds, quick.duration_s, quick.scaling) == (1, 2.0, (10, 100, 1000))
    keys = [c.key for c in BenchConfig(transport_variable="PATIENTOVERBLIK_HTTP_TRANSPORT").contenders()]
    assert keys == ["gateway", "gateway-httpx", "gateway-2w", "peer-httpx", "peer-aiohttp"]
    assert [c.key for c in BenchConfig(transport_variable="").contenders()] == [
        "gateway",
        "gateway-2w",
        "peer-httpx",
        "peer-aiohttp",
    ]


def test_medians_leave_out_runs_that_handled_nothing() -> None:
    middle = median([sample(cpu_ms=4.0), sample(cpu_ms=math.nan, handled=0), sample(cpu_ms=6.0)])
    assert (middle.cpu_ms, middle.handled) == (5.0, 800)


def run(overview: dict[str, Sample], appointments: Sample) -> list[Row]:
    rows = [Row("fast", "overview", key, key, 50, figures) for key, figures in overview.items()]
    return [*rows, Row("fast", "appointments", "gateway", "gateway", 10, appointments)]


def test_targets_are_ratios_against_the_critical_path_and_the_peer() -> None:
    good = run(
        {
            "gateway": sample(rps=300.0, cpu_ms=3.0),
            "gateway-httpx": sample(cpu_ms=5.0),
            "peer-httpx": sample(rps=150.0, cpu_ms=4.5),
            "peer-aiohttp": sample(cpu_ms=3.0),
        },
        sample(upstream_per_query=6.0, p50_ms=55.0),
    )
    scaling = [ScalingRow(10, 6, 10.0, 60, 100, 5), ScalingRow(100, 6, 19.0, 60, 100, 5),
               ScalingRow(1000, 21, 109.0, 300, 100, 5), ScalingRow(10_000, 201, 1009.0, 2000, 100, 5)]  # fmt: skip
    results = targets(BenchConfig(), good, {"scaling": scaling, "soak": [(10.0, 100.0), (20.0, 101.0), (60.0, 103.0)]})
    assert [r[-1] for r in results] == ["pass"] * 9
    bad = run(
        {"gateway": sample(p99_ms=400.0, cpu_ms=9.0), "peer-aiohttp": sample(cpu_ms=4.5)},
        sample(upstream_per_query=25.0, p50_ms=115.0),
    )
    quadratic = [ScalingRow(n, 6, 10 + n * n / 10_000, 60, 100, 5) for n in (10, 100, 1000, 10_000)]
    verdicts = {r[0].split(":")[0]: r[-1] for r in targets(BenchConfig(), bad, {"scaling": quadratic})}
    assert verdicts["overview p99, 50 clients / critical path"] == "FAIL"
    assert verdicts["CPU/request, gateway vs peer on aiohttp"] == "FAIL"
    assert verdicts["appointments upstream req/query / 6 (warm cache)"] == "FAIL"
    assert verdicts["appointments p50, 10 clients / critical path"] == "pass"  # two waves when documents are fetched
    assert verdicts["CPU per added appointment 100→1,000→10,000"] == "FAIL"
    assert verdicts["RSS over the soak"] == "n/a"


def test_each_scaling_patient_gets_exactly_its_appointments_in_the_window_over_five_endpoints() -> None:
    population = build_population(seed=7, patients=200)
    before = {a.cpr for a in population.clinical.appointments}
    chosen = add_scaling_patients(population, [3, 40])
    assert len(set(chosen.values())) == 2 and not set(chosen.values()) & before
    for count, cpr in chosen.items():
        mine = [a for a in population.clinical.appointments if a.cpr == cpr]
        assert len(mine) == count and all(a.status == "booked" for a in mine)
        assert all(population.anchor < a.start.date() < population.anchor + timedelta(days=90) for a in mine)
    endpoints = {a.endpoints for a in population.clinical.appointments if a.cpr == chosen[40]}
    assert endpoints == {
        ("region-syddanmark",),
        ("region-nordjylland",),
        ("municipality-odense",),
        ("municipality-aalborg",),
        ("gp",),
    }
    assert QUERIES["appointments"].waves == 2
