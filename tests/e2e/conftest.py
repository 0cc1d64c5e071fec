"""End-to-end fixtures: the sandbox as real HTTP servers on loopback, the gateway in-process.

The gateway's adapters make real HTTP requests to the sandbox servers; only the client→gateway hop
uses ``httpx.ASGITransport``. Each sandbox source records what it received (``recorded``). Every log
line of the session is scanned for CPR numbers and names (``log_scan``, :mod:`tests.e2e.log_scan`).
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.access_log import AccessLog, SecurityEvent, SqliteAccessLog
from gateway.app import create_app
from gateway.settings import (
    SANDBOX_APPOINTMENT_ENDPOINTS,
    SANDBOX_PLAN_ENDPOINTS,
    EndpointSettings,
    Settings,
    SourceSettings,
)
from sandbox.control import Faults
from sandbox.population import Population, build_population
from sandbox.server import SOURCE_APPS, ThreadedSandbox, start_in_thread
from sources.base import SourceClient, SourceConfig
from sources.minlog import MinLogSink
from sources.patient_keys import SECRET_BYTES, PatientKeys
from tests.e2e.log_scan import CapturedLog, forbidden_words, personal_data_in
from tests.entry_points import EntryPoint, as_patient, through

HANS = "1403723705"
KOL = "2309510372"
PROTECTED = "1502779995"
BLOCKS_DOCTOR = "2805670388"
DOCTOR_WITH_RELATIONS = "CBDJ6"
BLOCKED_DOCTOR = "7QWRT"
DOCTOR_WITHOUT_RELATIONS = "X2P9K"

OVERVIEW = """
query Overview($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name address status }
    generalPractitioner { name phone }
    masterCard {
      phone relatives { name phone } dentist preferredLanguage healthInsuranceGroup
      registrations { treatmentWill livingWill organDonor resuscitationOptOut }
    }
  }
}
"""


@pytest.fixture(scope="session")
def population() -> Population:
    return build_population(seed=2016, patients=20)


@pytest.fixture(scope="session", autouse=True)
def log_scan(population: Population) -> Iterator[CapturedLog]:
    """Capture every log record of the session at INFO and up, as the gateway writes it; fail the session
    if any line holds a CPR-shaped string or a name of someone in the sandbox."""
    captured = CapturedLog()
    root = logging.getLogger()
    level = root.level
    root.addHandler(captured)
    root.setLevel(logging.INFO)
    yield captured
    root.removeHandler(captured)
    root.setLevel(level)
    hits = personal_data_in(captured.lines, forbidden_words(population))
    if hits:
        shown = "\n".join(hits[:10])
        pytest.fail(f"{len(hits)} of {len(captured.lines)} log lines hold personal data, e.g.:\n{shown}")


@pytest.fixture(scope="session")
def running_sandbox(population: Population) -> Iterator[ThreadedSandbox]:
    sandbox = start_in_thread(population)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(running_sandbox: ThreadedSandbox) -> Iterator[ThreadedSandbox]:
    """The running sandbox with clean recorders, no faults and only the issuer's signing keys."""
    services = ["issuer", *SOURCE_APPS]
    for name in services:
        control = running_sandbox.control(name)
        control.recorder.clear()
        control.faults.update(asdict(Faults()))
    yield running_sandbox
    for name in services:
        running_sandbox.control(name).faults.update(asdict(Faults()))
    issuer = running_sandbox.sandbox.issuer
    assert issuer is not None
    issuer.set_extra_keys([])


def recorded(sandbox: ThreadedSandbox, name: str) -> int:
    """How many requests source ``name`` received."""
    return len(sandbox.control(name).recorder.requests)


SINGLE_SOURCES = (
    "cpr",
    "yderregister",
    "stamkort",
    "registers",
    "consent",
    "treatment_relation",
    "sor",
    "fuldmagt",
    "minlog",
)


KEY_SECRET = bytes(range(7, 7 + SECRET_BYTES))
"""The test gateways' patient key secret (``PATIENTOVERBLIK_FEDERATION__KEY_SECRET``), so tests can make keys."""
KEYS = PatientKeys(KEY_SECRET)

GENEROUS_TIMEOUT_S = 30.0
"""Every source's deadline in these tests: a healthy sandbox source on a loaded 2-core machine (CI, other
work) can take seconds, and a timeout there would fail a test about something else. A test about
timeouts gives the source it slows down a short deadline of its own (``slow_endpoint``, ``SourceSettings``).
The request's own deadline is as generous; a test about it sets ``deadline`` (ADR 0024)."""


def settings_for(sandbox: ThreadedSandbox, tmp_path: Path, **overrides: Any) -> Settings:
    timeout = GENEROUS_TIMEOUT_S
    sources: dict[str, Any] = {
        name: SourceSettings(base_url=sandbox.url(name), timeout_s=timeout, retries=0) for name in SINGLE_SOURCES
    }
    appointments = [
        EndpointSettings(
            name=name,
            base_url=sandbox.url(name),
            format=fmt,
            kind=kind,
            organisation_sor=sor,
            timeout_s=timeout,
            retries=0,
        )
        for name, fmt, kind, sor in SANDBOX_APPOINTMENT_ENDPOINTS
    ]
    plans = [
        EndpointSettings(name=name, base_url=sandbox.url(name), kind=kind, timeout_s=timeout, retries=0)
        for name, kind in SANDBOX_PLAN_ENDPOINTS
    ]
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path / 'access.db'}",
            "token_issuer": sandbox.url("issuer"),
            "token_jwks_url": sandbox.url("issuer") + "/.well-known/jwks.json",
            "graphiql": False,
            "appointment_endpoints": appointments,
            "plan_endpoints": plans,
            "deadline": {"request_s": timeout},
            "federation": {"key_secret": base64.b64encode(KEY_SECRET).decode()},
            **sources,
            **overrides,
        }
    )


def slow_endpoint(settings: Settings, name: str, timeout_s: float) -> Settings:
    """``settings`` with appointment or plan endpoint ``name`` on a short deadline of its own (timeout tests)."""

    def shorter(endpoints: list[EndpointSettings]) -> list[EndpointSettings]:
        return [
            EndpointSettings(**{**e.model_dump(), "timeout_s": timeout_s}) if e.name == name else e for e in endpoints
        ]

    settings.appointment_endpoints = shorter(settings.appointment_endpoints)
    settings.plan_endpoints = shorter(settings.plan_endpoints)
    return settings


def sign(sandbox: ThreadedSandbox, **claims: Any) -> str:
    """A token the sandbox's issuer signs for ``claims`` (the body of its ``POST /token``)."""
    issuer = sandbox.sandbox.issuer
    assert issuer is not None
    return issuer.issue(claims)


@dataclass
class Gateway:
    """A running gateway and a client for it.

    Its requests select patients through ``entry_point``: an operation written with ``patient(cpr:)`` is
    sent through ``_entities`` when that is the entry point, and its answer read back into the shape
    ``patient(cpr:)`` gives (:mod:`tests.entry_points`), so one test checks both (ADR 0022).
    """

    client: httpx.AsyncClient
    sandbox: ThreadedSandbox
    access_log: AccessLog
    entry_point: EntryPoint = EntryPoint.PATIENT
    keys: PatientKeys = field(default=KEYS)

    def via(self, entry_point: EntryPoint) -> Gateway:
        """This gateway, its requests selecting patients through ``entry_point``."""
        return replace(self, entry_point=entry_point)

    def token(self, **claims: Any) -> str:
        return sign(self.sandbox, **claims)

    def citizen(self, cpr: str) -> str:
        return self.token(actor_kind="citizen", cpr=cpr)

    def professional(self, authorization_id: str) -> str:
        return self.token(actor_kind="professional", authorization_id=authorization_id)

    async def post(self, query: str, token: str | None = None, **variables: Any) -> httpx.Response:
        query, sent = through(self.entry_point, query, variables, self.keys)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return await self.client.post("/graphql", json={"query": query, "variables": sent}, headers=headers)

    async def graphql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        response = await self.post(query, token, **variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return as_patient(self.entry_point, query, body)


class Harness:
    """A running gateway for property tests, named briefly in Hypothesis's reports (its sandbox holds the
    whole population, too long to print)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def __repr__(self) -> str:
        return "<gateway over the sandbox>"


async def start_gateway(sandbox: ThreadedSandbox, settings: Settings, access_log: AccessLog) -> AsyncIterator[Gateway]:
    app = create_app(settings, access_log=access_log)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as client,
    ):
        yield Gateway(client, sandbox, access_log)


@pytest.fixture
async def gateway(sandbox: ThreadedSandbox, tmp_path: Path, entry_point: EntryPoint) -> AsyncIterator[Gateway]:
    async for running in gateway_with(sandbox, tmp_path):
        yield running.via(entry_point)


async def gateway_with(sandbox: ThreadedSandbox, tmp_path: Path, **overrides: Any) -> AsyncIterator[Gateway]:
    """A gateway with its own SQLite access log, started with ``overrides`` of the test settings."""
    store = SqliteAccessLog(tmp_path / "access.db")
    async for running in start_gateway(sandbox, settings_for(sandbox, tmp_path, **overrides), store):
        yield running
    await store.aclose()


@pytest.fixture
def restore_hans(population: Population) -> Iterator[None]:
    """Put Hans's master card and every block back after a test that writes."""
    card = copy.deepcopy(population.master_cards[HANS])
    blocks = copy.deepcopy(population.blocks)
    yield
    population.master_cards[HANS] = card
    population.blocks[:] = blocks


@pytest.fixture
async def minlog_sink(sandbox: ThreadedSandbox) -> AsyncIterator[MinLogSink]:
    """An export sink of its own on the sandbox's Min Log, for tests that export by hand."""
    async with httpx.AsyncClient(base_url=sandbox.url("minlog")) as client:
        yield MinLogSink(SourceClient(SourceConfig("minlog", sandbox.url("minlog"), retries=0), client))


async def min_log_events(sandbox: ThreadedSandbox, cpr: str) -> list[dict[str, Any]]:
    """Every ``AuditEvent`` the sandbox's Min Log holds for patient ``cpr``."""
    async with httpx.AsyncClient(base_url=sandbox.url("minlog")) as client:
        bundle = (await client.get("/fhir/AuditEvent", params={"patient": cpr})).json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


async def security_events_of(log: AccessLog) -> list[SecurityEvent]:
    """The security events in ``log``, newest first; every one of them readable."""
    listed = await log.security_events(1000)
    events = [event for event in listed if isinstance(event, SecurityEvent)]
    assert len(events) == len(listed), "every security event the gateway wrote reads back"
    return events


def error_codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, source) of every error, in order."""
    return [(e["extensions"]["code"], e["extensions"].get("source")) for e in body.get("errors", [])]
