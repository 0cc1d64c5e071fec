"""What ``make bench`` measures and how long: queries, contenders and the ``BENCH_*`` knobs.

Knobs (environment variables, all optional):

- ``BENCH_QUICK=1``: a smoke run of about two minutes (fewer rounds, shorter runs, fewer cases);
- ``BENCH_DURATION_S`` (3; quick 2): seconds of load per run; ``BENCH_ROUNDS`` (3; quick 1): rounds,
  each running every contender once (interleaved), figures are the medians over rounds;
- ``BENCH_CLIENTS`` (``1,10,50``): concurrent clients; ``BENCH_LATENCY_MS`` (50): every source's latency;
- ``BENCH_UPSTREAMS`` (``fast,sandbox``): which upstreams to measure against;
- ``BENCH_SCALING`` (``10,100,1000,10000``; quick ``10,100,1000``): appointments per patient;
- ``BENCH_SOAK_S`` (30; quick 8): the soak that watches the gateway's RSS (the target says 600);
- ``BENCH_PATIENTS`` (10000; quick 2000): the sandbox's generated population;
- ``BENCH_GATEWAY_TRANSPORT_VAR`` (:data:`GATEWAY_TRANSPORT_VARIABLE`) and ``BENCH_SHIPPED_TRANSPORT``
  (:data:`SHIPPED_TRANSPORT`): see there;
- ``BENCH_OUTPUT`` (``var/bench``): where the report and the raw figures (JSON) are written;
- ``BENCH_KEEP=1``: keep the working directory (servers' logs, databases, nginx configuration), which
  is otherwise removed after a run that succeeded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

GATEWAY_TRANSPORT_VARIABLE = "PATIENTOVERBLIK_HTTP_TRANSPORT"
"""The gateway's setting that chooses its upstream transport (ADR 0013); the gateway also runs once on
each transport, by that setting. Empty: the gateway runs only as shipped."""
GATEWAY_TRANSPORT_VALUES = {"httpx": "httpcore", "aiohttp": "aiohttp"}
"""The bench's transport label → the gateway setting's value (httpx's default transport is ``httpcore``)."""
SHIPPED_TRANSPORT = "aiohttp"
"""The transport the gateway uses when that setting is not given (what the targets compare)."""
TRANSPORTS = ("httpx", "aiohttp")

HANS = "1403723705"
KOL = "2309510372"
DOCTOR = {"actor_kind": "professional", "authorization_id": "CBDJ6", "organisation_sor": "378641000016007"}
"""Mette Test Larsen at the nephrology department, with a treatment relation to Hans and Birthe."""

OVERVIEW = (
    '{ patient(cpr: "%s") { person { name address status } generalPractitioner { name phone } '
    "masterCard { phone relatives { name phone } dentist preferredLanguage healthInsuranceGroup "
    "registrations { treatmentWill organDonor } } } }"
)
"""The README's overview query; what the peer answers too."""
APPOINTMENTS = (
    '{ patient(cpr: "%s") { appointments { complete list(first: 100) { totalCount '
    "nodes { id start status organisation { name kind } } } weeks { week days { date appointments { id } } } } } }"
)
TWO_PATIENTS = (
    '{ hans: patient(cpr: "%s") { person { name address status } generalPractitioner { name phone } '
    "masterCard { phone relatives { name phone } } } "
    'birthe: patient(cpr: "%s") { person { name address status } generalPractitioner { name phone } '
    "masterCard { phone relatives { name phone } } } }"
)


@dataclass(frozen=True)
class Query:
    """One measured query: its GraphQL text, the caller's token claims and its critical path in source waves."""

    name: str
    graphql: str
    claims: Mapping[str, Any]
    waves: int
    """Dependent source waves: the critical path is ``waves``x the source latency."""
    peer_path: str | None = None
    """The hand-written peer's equivalent (overview only)."""
    weight: float = 1.0
    """Runs of this query last ``weight`` x ``BENCH_DURATION_S``: long enough for slow answers to complete."""


QUERIES = {
    "overview": Query(
        "overview", OVERVIEW % HANS, {"actor_kind": "citizen", "cpr": HANS}, 2, f"/patients/{HANS}/overview"
    ),
    "appointments": Query("appointments", APPOINTMENTS % HANS, {"actor_kind": "citizen", "cpr": HANS}, 2, weight=3),
    "two patients": Query("two patients", TWO_PATIENTS % (HANS, KOL), DOCTOR, 3),
}
"""Overview: CPR, GP assignment, master card, registers, then the practice. Appointments: every endpoint and
the DDS index, then the documents the index lists. Two patients (a doctor): consent and treatment relations
decide first, then the overview's two waves for both patients at once."""
APPOINTMENT_ENDPOINTS = 5
"""FHIR appointment endpoints besides DDS: one request each for a patient with under 50 appointments."""


@dataclass(frozen=True)
class Contender:
    """A server under load: the gateway or the hand-written peer, on one transport, with some workers."""

    key: str
    kind: Literal["gateway", "peer"]
    transport: str
    """``httpx``, ``aiohttp``, or ``shipped`` (the gateway as it ships: no transport setting given)."""
    workers: int = 1

    @property
    def label(self) -> str:
        transport = "as shipped" if self.transport == "shipped" else f"on {self.transport}"
        workers = f", {self.workers} workers" if self.workers > 1 else ""
        return f"{self.kind} {transport}{workers}"


@dataclass(frozen=True)
class BenchConfig:
    """One bench run's knobs (see the module docstring)."""

    quick: bool = False
    duration_s: float = 3.0
    rounds: int = 3
    clients: tuple[int, ...] = (1, 10, 50)
    latency_ms: float = 50.0
    upstreams: tuple[str, ...] = ("fast", "sandbox")
    scaling: tuple[int, ...] = (10, 100, 1000, 10_000)
    soak_s: float = 30.0
    patients: int = 10_000
    transport_variable: str = GATEWAY_TRANSPORT_VARIABLE
    shipped_transport: str = SHIPPED_TRANSPORT
    output: Path = field(default_factory=lambda: Path("var/bench"))

    def contenders(self) -> list[Contender]:
        """The gateway as shipped (one and two workers), on each transport when it has the setting, and the peers."""
        gateways = [Contender("gateway", "gateway", "shipped"), Contender("gateway-2w", "gateway", "shipped", 2)]
        if self.transport_variable:
            others = [t for t in TRANSPORTS if t != self.shipped_transport]
            gateways[1:1] = [Contender(f"gateway-{t}", "gateway", t) for t in others]
        return [*gateways, *(Contender(f"peer-{t}", "peer", t) for t in TRANSPORTS)]

    def cases(self, upstream: str) -> list[tuple[Query, int, list[Contender]]]:
        """(query, clients, contenders) measured against ``upstream``.

        The overview: every contender at every client count. The appointments and the two-patient
        query: the gateway alone (as shipped, one worker). The sandbox's figures are for comparison
        only: one worker each, and the other queries at 10 clients only. A quick run measures the
        overview at 10 and 50 clients against the fast upstream and at 10 against the sandbox, the
        other queries at 10 against the fast upstream only.
        """
        everyone = self.contenders()
        if upstream == "sandbox":
            everyone = [c for c in everyone if c.workers == 1]
        gateway = [everyone[0]]
        every = set(self.clients)
        overview_at, others_at = {
            ("fast", False): (every, every),
            ("sandbox", False): (every, {10}),
            ("fast", True): ({10, 50}, {10}),
            ("sandbox", True): ({10}, set()),
        }[(upstream, self.quick)]
        cases: list[tuple[Query, int, list[Contender]]] = []
        for clients in self.clients:
            if clients in overview_at:
                cases.append((QUERIES["overview"], clients, everyone))
            if clients in others_at:
                cases += [(QUERIES[name], clients, gateway) for name in ("appointments", "two patients")]
        return cases


def from_environment(env: Mapping[str, str] | None = None) -> BenchConfig:
    """The knobs from ``BENCH_*`` variables."""
    env = os.environ if env is None else env
    quick = env.get("BENCH_QUICK", "") not in ("", "0")

    def numbers(name: str, default: str) -> tuple[int, ...]:
        return tuple(int(n) for n in env.get(name, default).split(",") if n.strip())

    return BenchConfig(
        quick=quick,
        duration_s=float(env.get("BENCH_DURATION_S", "2" if quick else "3")),
        rounds=int(env.get("BENCH_ROUNDS", "1" if quick else "3")),
        clients=numbers("BENCH_CLIENTS", "1,10,50"),
        latency_ms=float(env.get("BENCH_LATENCY_MS", "50")),
        upstreams=tuple(u for u in env.get("BENCH_UPSTREAMS", "fast,sandbox").split(",") if u),
        scaling=numbers("BENCH_SCALING", "10,100,1000" if quick else "10,100,1000,10000"),
        soak_s=float(env.get("BENCH_SOAK_S", "8" if quick else "30")),
        patients=int(env.get("BENCH_PATIENTS", "2000" if quick else "10000")),
        transport_variable=env.get("BENCH_GATEWAY_TRANSPORT_VAR", GATEWAY_TRANSPORT_VARIABLE),
        shipped_transport=env.get("BENCH_SHIPPED_TRANSPORT", SHIPPED_TRANSPORT),
        output=Path(env.get("BENCH_OUTPUT", "var/bench")),
    )
