"""A real router composes the overview with a second subgraph, and the access rules hold through it (ADR 0022).

Hive Gateway (``router.py``) composes the gateway, served over HTTP on loopback with the sandbox behind
it, and a small medication register (``medication.py``) with Guild composition, and forwards the
caller's ``Authorization`` header. Through the router:

- the register's prescriptions name patients by key, and the router asks the overview's ``_entities``
  for their data: decided by the consent gate, recorded, one access decision for the whole request;
- a doctor the patient blocked gets the master data and ``CONSENT_DENIED`` for the appointments, and no
  appointment source is asked;
- the overview's ``patient(cpr:)`` is joined with the register's ``Patient.prescriptions``, which needs
  the CPR number (``@requires``): the register gets it only as the overview's gate allowed it;
- a subgraph run as two instances is asked in turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.access_log_sqlite import SqliteAccessLog
from gateway.app import create_app
from gateway.settings import DEMO_CLIENTS
from sandbox.server import ThreadedSandbox
from tests.e2e import conftest as e2e
from tests.e2e.federation import medication
from tests.e2e.federation.router import COMPOSER, COMPOSER_CLIENT, Subgraph, router
from tests.e2e.served import post_graphql, served

DRUGS = {e2e.HANS: ["Furix", "Kaleorid"], e2e.KOL: ["Spiriva"], e2e.BLOCKS_DOCTOR: ["Panodil"]}
APPOINTMENT_SOURCES = ("region-syddanmark", "region-nordjylland", "municipality-odense", "municipality-aalborg", "gp")


@dataclass
class Federation:
    """The router in front of the gateway and the medication register."""

    url: str
    register: medication.Register
    sandbox: ThreadedSandbox
    access_log: Path

    def ask(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        return post_graphql(self.url, query, token, variables, timeout_s=60)

    async def records(self, cpr: str) -> list[Any]:
        store = SqliteAccessLog(self.access_log)
        try:
            return list(await store.for_patient(cpr))
        finally:
            await store.aclose()


@pytest.fixture
def federation(sandbox: ThreadedSandbox, tmp_path: Path) -> Iterator[Federation]:
    settings = e2e.settings_for(sandbox, tmp_path, clients={**DEMO_CLIENTS, COMPOSER: COMPOSER_CLIENT})
    register = medication.Register(DRUGS, {cpr: e2e.KEYS.key_of(cpr) for cpr in DRUGS})
    composer = e2e.sign(sandbox, actor_kind="citizen", cpr=e2e.HANS, client_id=COMPOSER)
    with served(create_app(settings)) as overview, served(medication.app(register)) as register_url:
        subgraphs = [
            Subgraph("overview", (f"{overview}/graphql",)),
            Subgraph("medication", (f"{register_url}/graphql",)),
        ]
        with router(subgraphs, sdl_headers={"authorization": f"Bearer {composer}"}) as url:
            register.authorizations.clear()
            yield Federation(url, register, sandbox, tmp_path / "access.db")


PRESCRIPTIONS = """
{ prescriptions { drug patient { id person { name } appointments { withheld } } } }
"""


async def test_a_doctor_reads_the_registers_patients_through_the_router_decided_and_recorded(
    federation: Federation,
) -> None:
    token = e2e.sign(federation.sandbox, actor_kind="professional", authorization_id=e2e.DOCTOR_WITH_RELATIONS)

    body = federation.ask(PRESCRIPTIONS, token)

    people = {p["drug"]: p["patient"]["person"] for p in body["data"]["prescriptions"]}
    assert people == {
        "Furix": {"name": "Hans Test Jensen"},
        "Kaleorid": {"name": "Hans Test Jensen"},
        "Spiriva": {"name": "Birthe Test Sørensen"},
        "Panodil": None,  # no treatment relation to Anne
    }
    assert {(e["path"][1], e["extensions"]["code"]) for e in body["errors"]} == {(3, "FORBIDDEN")}
    assert federation.register.authorizations == [f"Bearer {token}"], "the router forwarded the caller's header"
    assert e2e.recorded(federation.sandbox, "treatment_relation") == 1, "one decision for every patient of the request"
    hans = await federation.records(e2e.HANS)
    assert len(hans) == 1 and hans[0].actor_id == e2e.DOCTOR_WITH_RELATIONS
    assert set(hans[0].returned) == {"person", "appointments"}


async def test_a_blocked_doctor_gets_consent_denied_through_the_router_and_nothing_is_fetched(
    federation: Federation,
) -> None:
    token = e2e.sign(federation.sandbox, actor_kind="professional", authorization_id=e2e.BLOCKED_DOCTOR)

    body = federation.ask(PRESCRIPTIONS, token)

    anne = next(p["patient"] for p in body["data"]["prescriptions"] if p["drug"] == "Panodil")
    assert anne["person"] == {"name": "Anne Test Pedersen"} and anne["appointments"] is None
    denied = [e for e in body["errors"] if e["extensions"]["code"] == "CONSENT_DENIED"]
    assert len(denied) == 1 and denied[0]["extensions"].get("overridable") is True
    assert denied[0]["path"][-1] == "appointments"
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"CONSENT_DENIED", "FORBIDDEN"}
    assert sum(e2e.recorded(federation.sandbox, name) for name in APPOINTMENT_SOURCES) == 0
    (record,) = await federation.records(e2e.BLOCKS_DOCTOR)
    assert "appointments" in record.denied and "appointments" not in record.returned


async def test_the_overviews_patient_joins_the_registers_prescriptions_which_get_the_number_the_gate_allowed(
    federation: Federation,
) -> None:
    doctor = e2e.sign(federation.sandbox, actor_kind="professional", authorization_id=e2e.DOCTOR_WITH_RELATIONS)
    citizen = e2e.sign(federation.sandbox, actor_kind="citizen", cpr=e2e.HANS)
    query = "query($c: CPR!) { patient(cpr: $c) { person { name } prescriptions { drug } } }"

    mine = federation.ask(query, citizen, c=e2e.HANS)
    refused = federation.ask(query, citizen, c=e2e.KOL)
    asked_for_kol = [r for r in federation.register.representations if r.get("cpr") == e2e.KOL]
    doctors = federation.ask(query, doctor, c=e2e.KOL)

    assert mine["data"]["patient"] == {
        "person": {"name": "Hans Test Jensen"},
        "prescriptions": [{"drug": "Furix"}, {"drug": "Kaleorid"}],
    }
    assert refused["data"]["patient"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert asked_for_kol == [], "the register never learnt of a patient the caller may not see"
    assert doctors["data"]["patient"]["prescriptions"] == [{"drug": "Spiriva"}]
    assert {
        "__typename": "Patient",
        "id": e2e.KEYS.key_of(e2e.HANS),
        "cpr": e2e.HANS,
    } in federation.register.representations


PRESCRIPTIONS_ONLY = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { prescriptions: [Prescription!]! }
type Prescription { drug: String! }
"""
"""What the router is told of the register when it stands alone (its `Patient.cpr` needs the overview)."""


def test_a_subgraph_run_as_two_instances_is_asked_in_turns() -> None:
    one, other = (medication.Register(DRUGS, {cpr: e2e.KEYS.key_of(cpr) for cpr in DRUGS}) for _ in range(2))
    with (
        served(medication.app(one)) as first,
        served(medication.app(other)) as second,
        router([Subgraph("medication", (f"{first}/graphql", f"{second}/graphql"), PRESCRIPTIONS_ONLY)]) as url,
    ):
        for _ in range(4):
            response = httpx.post(url, json={"query": "{ prescriptions { drug } }"}, timeout=60)
            assert response.status_code == 200 and len(response.json()["data"]["prescriptions"]) == 4

    assert len(one.authorizations) == len(other.authorizations) == 2
