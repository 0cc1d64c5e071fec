"""Name and address protection, as a property over every protected field of the schema and every kind of caller.

Each example draws a protected field (``Type.field``, from the schema: ``tests/protected_schema.py``),
a caller and a patient — the protected persona Ruddi Test Berggren, the protected child Alma Test
Nielsen in Sofie Test Nielsen's custody, or Birthe Test Sørensen without protection — and asks the
gateway for that field alone. Then:

1. a caller the rules redact for (a professional, an assistant, a vendor system, a parent with
   custody; ADR 0012) never gets a detail of a protected patient, wherever in the answer;
2. a caller who sees protected data (the patient, a fuldmagt holder, a system registered as an
   authority) gets every detail of that field the sandbox holds, unless access refused the field,
   and so does everyone for a patient without protection;
3. nothing fails: the only errors are refusals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from auth.access_log_sqlite import SqliteAccessLog
from auth.gate import today
from gateway.settings import DEMO_CLIENTS, ClientSettings
from sandbox.personas import ASSISTANT_ID
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, KOL, Gateway, Harness, settings_for, start_gateway
from tests.e2e.protected_details import PLACEHOLDER, leaked, missing, protected_details
from tests.entry_points import EntryPoint
from tests.protected_schema import object_types, protected_coordinates, protected_query

MOTHER, NANCY = "1908830938", "2512489996"
AUTHORITY = "kommune-sagssystem"
WINDOW = {"first": str(today() - timedelta(days=1800)), "last": str(today() + timedelta(days=1800))}
METTE = {"Mette Test Larsen", "Nefrologisk Afdeling Y, OUH"}
CALLERS = ("patient", "representative", "authority", "professional", "assistant", "system", "parent")
SEES = frozenset({"patient", "representative", "authority"})
"""Callers who see a protected patient's details: the patient, a fuldmagt holder, an authority."""
PATIENTS = ("protected", "protected_child", "unprotected")


def token(gateway: Gateway, caller: str, cpr: str) -> str:
    match caller:
        case "patient":
            return gateway.citizen(cpr)
        case "representative":
            return gateway.citizen(NANCY)  # holds a fuldmagt from Ruddi only
        case "parent":
            return gateway.citizen(MOTHER)  # has custody of Alma only
        case "professional":
            return gateway.professional(DOCTOR_WITH_RELATIONS)
        case "assistant":
            return gateway.token(
                actor_kind="assistant", assistant_id=ASSISTANT_ID, authorization_id=DOCTOR_WITH_RELATIONS
            )
        case "system" | "authority":
            client = "epj-odense" if caller == "system" else AUTHORITY
            return gateway.token(actor_kind="system", client_id=client, authorization_id=DOCTOR_WITH_RELATIONS)
    raise AssertionError(caller)


@pytest.fixture
async def harness(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Harness]:
    """The gateway with the demo vendor system and a system registered as an authority for every field."""
    store = SqliteAccessLog(tmp_path / "access.db")
    authority = ClientSettings(
        name="Kommunens sagssystem (demo)", fields=[f"{t.name}.*" for t in object_types()], authority=True
    )
    settings = settings_for(sandbox, tmp_path, clients={**DEMO_CLIENTS, AUTHORITY: authority})
    async for running in start_gateway(sandbox, settings, store):
        yield Harness(running)
    await store.aclose()


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    coordinate=st.sampled_from(protected_coordinates()),
    caller=st.sampled_from(CALLERS),
    patient=st.sampled_from(PATIENTS),
    entry_point=st.sampled_from(EntryPoint),
)
async def test_a_protected_field_is_shown_to_those_who_see_protected_data_and_to_nobody_else(
    harness: Harness, population: Population, coordinate: str, caller: str, patient: str, entry_point: EntryPoint
) -> None:
    """Whether the patient is named by CPR number or by key through ``_entities`` (ADR 0022)."""
    gateway = harness.gateway.via(entry_point)
    cpr = KOL if patient == "unprotected" else population.personas[patient]
    query = protected_query(coordinate, **WINDOW)
    accessors: set[str] = set()
    if coordinate == "AccessLog.entries":  # someone the log names
        await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)
        accessors = METTE

    body = await gateway.graphql(query, token(gateway, caller, cpr), cpr=cpr)

    note(f"{caller} asked {coordinate} of {patient}: {body}")
    details = {coordinate: protected_details(population, cpr, accessors)[coordinate]}
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    assert codes <= {"FORBIDDEN"}
    if patient != "unprotected" and caller not in SEES:
        assert leaked(details, body) == set()
    elif not codes:
        assert missing(details, body["data"]["patient"]) == {}
        assert PLACEHOLDER not in str(body)
