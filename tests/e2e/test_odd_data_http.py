"""Real upstream data is messier than the sandbox's defaults: the odd-data personas (``sandbox/quirks.py``).

Each test asks the gateway, over HTTP, for a persona whose sources send one kind of quirk real
sources send, and checks that the overview keeps what is known, withholds what cannot be placed, and
never loses a whole source for one odd item.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from sandbox.clinical import NEPHROLOGY, Condition
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, Gateway, error_codes

NIGHT = """
query Night($cpr: CPR!, $after: String) {
  patient(cpr: $cpr) {
    appointments(from: "2026-03-28", to: "2026-10-26") {
      complete
      sources { source state }
      list(first: 1, after: $after) { nodes { id start end } pageInfo { hasNextPage endCursor } }
      days { date appointments { id } }
    }
  }
}
"""

PERSONS = """
query Persons($a: CPR!, $b: CPR!, $c: CPR!) {
  a: patient(cpr: $a) { person { status statusCode address postalAddress { line postalCode city } birthDate } }
  b: patient(cpr: $b) { person { name birthDate } }
  c: patient(cpr: $c) { person { name birthDate } }
}
"""

CLINICAL = """
query Clinical($cpr: CPR!) {
  patient(cpr: $cpr) {
    plans { withheld complete nodes { title period { start end } } }
    diagnoses {
      withheld complete
      nodes { code recorded onset recordedPeriod { start end } onsetPeriod { start end } }
    }
  }
}
"""

APPOINTMENTS = """
query Appointments($cpr: CPR!) {
  patient(cpr: $cpr) { appointments { complete list { nodes { id title } } } }
}
"""


async def test_the_night_the_clocks_go_back_pages_every_visit_once_in_instant_order(
    gateway: Gateway, population: Population
) -> None:
    cpr = population.personas["dst_night"]
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    seen: list[dict[str, Any]] = []
    after = None
    for _ in range(10):
        body = await gateway.graphql(NIGHT, token, cpr=cpr, after=after)
        assert error_codes(body) == []
        appointments = body["data"]["patient"]["appointments"]
        seen += appointments["list"]["nodes"]
        if not appointments["list"]["pageInfo"]["hasNextPage"]:
            break
        after = appointments["list"]["pageInfo"]["endCursor"]

    assert appointments["complete"] is True
    assert {s["state"] for s in appointments["sources"]} == {"OK"}
    assert [(n["start"], n["end"]) for n in seen] == [
        ("2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00"),  # one hour across the spring gap
        ("2026-10-25T02:30:00+02:00", "2026-10-25T02:15:00+01:00"),  # 45 minutes, served by FHIR and DDS
        ("2026-10-25T02:45:00+02:00", "2026-10-25T02:45:00+01:00"),
        ("2026-10-25T02:15:00+01:00", "2026-10-25T02:30:00+01:00"),
    ]
    october = next(d for d in appointments["days"] if d["date"] == "2026-10-25")
    assert [a["id"] for a in october["appointments"]] == [n["id"] for n in seen[1:]]


async def test_odd_cpr_records_are_returned_with_what_is_known_and_never_sink_the_batch(
    gateway: Gateway, population: Population
) -> None:
    personas = population.personas
    cprs = {"a": personas["no_fixed_address"], "b": personas["birth_year_only"], "c": personas["birth_datetime"]}
    token = gateway.professional(DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(PERSONS, token, **cprs)

    assert error_codes(body) == []
    homeless = body["data"]["a"]["person"]
    assert (homeless["statusCode"], homeless["status"]) == ("03", "ACTIVE_SPECIAL_ROAD_CODE")
    assert homeless["address"] == "Uden fast bopæl"
    assert homeless["postalAddress"] == {"line": "Uden fast bopæl", "postalCode": None, "city": None}
    assert body["data"]["b"]["person"]["birthDate"] == "1948-08-19"  # "1948": the date the CPR number holds
    assert body["data"]["c"]["person"]["birthDate"] == "1950-03-05"  # 1950-03-04T23:30:00Z in Denmark


async def test_items_that_may_fall_in_a_blocked_period_are_withheld_from_the_doctor_not_from_the_patient(
    gateway: Gateway, population: Population, sandbox: ThreadedSandbox
) -> None:
    cpr = population.personas["messy_dates"]

    doctor = await gateway.graphql(CLINICAL, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)
    patient = await gateway.graphql(CLINICAL, gateway.citizen(cpr), cpr=cpr)

    assert error_codes(doctor) == error_codes(patient) == []
    seen = doctor["data"]["patient"]
    assert seen["diagnoses"]["withheld"] and seen["diagnoses"]["complete"]
    assert sorted(d["code"] for d in seen["diagnoses"]["nodes"]) == ["DJ449", "DJ459"]  # 2021 and "2018" only
    assert [p["title"] for p in seen["plans"]["nodes"]] == ["Opfølgning"]
    requests = sandbox.control("plans-hospital").recorder.requests
    plan_searches = [parse_qsl(r.query) for r in requests if r.path == "/fhir/CarePlan"]
    bounds = sorted((k, v) for q in plan_searches for k, v in q if k in ("date", "period-start"))
    assert bounds == [("period-start", "ge2021-01-01"), ("period-start", "lt2019-01-01")]  # exact: by the start

    own = {d["code"]: d for d in patient["data"]["patient"]["diagnoses"]["nodes"]}
    assert own["DN189"]["recorded"] is None  # "2019-06" is a month, not a date
    assert own["DN189"]["recordedPeriod"] == {"start": "2019-06-01", "end": "2019-06-30"}
    assert own["DE11"]["recorded"] == "2019-01-01"  # 2018-12-31T23:30:00Z is 00:30 on New Year's Day in Denmark
    assert len([d for d in patient["data"]["patient"]["diagnoses"]["nodes"] if d["code"] == "DQ059"]) == 3
    assert {p["title"] for p in patient["data"]["patient"]["plans"]["nodes"]} == {"Dialyseplan", "Opfølgning"}


async def test_a_block_on_an_authorisation_id_with_a_stray_space_blocks_that_professional(
    gateway: Gateway, population: Population
) -> None:
    cpr = population.personas["spaced_block"]

    body = await gateway.graphql(APPOINTMENTS, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)

    assert body["data"]["patient"]["appointments"] is None
    assert error_codes(body) == [("CONSENT_DENIED", None)]


async def test_a_childs_visit_is_filed_under_the_child_never_under_the_parent_taking_part(
    gateway: Gateway, population: Population
) -> None:
    child, mother = population.personas["visit_with_parent"], population.personas["mother"]

    for_child = await gateway.graphql(APPOINTMENTS, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=child)
    for_mother = await gateway.graphql(APPOINTMENTS, gateway.citizen(mother), cpr=mother)

    assert error_codes(for_child) == error_codes(for_mother) == []
    assert [n["title"] for n in for_child["data"]["patient"]["appointments"]["list"]["nodes"]] == ["Dialyse"]
    assert "Dialyse" not in [n["title"] for n in for_mother["data"]["patient"]["appointments"]["list"]["nodes"]]


async def test_a_block_whose_actor_cannot_be_matched_denies_every_professional(
    gateway: Gateway, population: Population
) -> None:
    cpr = population.personas["unmatchable_block"]

    body = await gateway.graphql(APPOINTMENTS, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)
    own = await gateway.graphql(APPOINTMENTS, gateway.citizen(cpr), cpr=cpr)

    assert body["data"]["patient"]["appointments"] is None
    assert error_codes(body) == [("CONSENT_DENIED", None)]
    assert body["errors"][0]["extensions"]["overridable"] is True
    assert error_codes(own) == []


async def test_one_item_a_source_cannot_read_is_left_out_and_reported_never_the_whole_answer(
    gateway: Gateway, population: Population
) -> None:
    hans = population.personas["hans"]
    question = (
        "query($cpr: CPR!) { patient(cpr: $cpr) { diagnoses { complete sources { source state } nodes { code } } } }"
    )
    before = await gateway.graphql(question, gateway.citizen(hans), cpr=hans)
    odd = Condition("odd-one", hans, "plans-hospital", "SKS", "DE11", "Type 2-diabetes", NEPHROLOGY, date(2024, 1, 1))
    odd.recorded_value = "yesterday"
    population.clinical.conditions.append(odd)
    try:
        body = await gateway.graphql(question, gateway.citizen(hans), cpr=hans)
    finally:
        population.clinical.conditions.remove(odd)

    diagnoses = body["data"]["patient"]["diagnoses"]
    assert diagnoses["complete"] is False
    assert {s["source"]: s["state"] for s in diagnoses["sources"]}["plans-hospital"] == "INVALID_RESPONSE"
    assert diagnoses["nodes"] == before["data"]["patient"]["diagnoses"]["nodes"]
    assert error_codes(body) == [("SOURCE_INVALID_RESPONSE", "plans-hospital")]
