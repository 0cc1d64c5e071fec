"""Contract tests for the plan-source adapter (CarePlan, Goal, Condition) against the simulated plan source."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from sandbox import plans
from sandbox.clinical import (
    ENDOCRINOLOGY_AUH,
    LUNG_CLINIC,
    ODENSE_HOME_CARE,
    ODENSE_KOMMUNE,
    ODENSE_TRAINING,
    PLAN_ENDPOINTS,
    CarePlan,
    Condition,
    EndpointSpec,
    Goal,
    Intervention,
)
from sandbox.population import Address, Population, Practice
from sources.clinical import (
    CarePlanRecord,
    ClinicalSearch,
    CodingRecord,
    ConditionRecord,
    DateWindow,
    DiagnosisCodeSystem,
    Endpoint,
    GoalKind,
    GoalRecord,
    InterventionRecord,
    OrganisationKind,
    OrganisationRef,
)
from sources.errors import SourceIncomplete, SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.models import PeriodRecord
from sources.plans import MAX_PAGES, PlanSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"
ANNE = "2805670388"
ENDPOINT = "plans-municipality"
GP_PRACTICE_SOR = "50011000016123"
CPR_OID = "urn:oid:1.2.208.176.1.2"
SOR_OID = "urn:oid:1.2.208.176.1.1"


@pytest.fixture
def world() -> Population:
    """A hand-built population: one patient's plan, goals and diagnoses in every code system."""
    population = Population(seed=1)
    address = Address("Testvej 1", "5000", "Odense C", "0461")
    population.practices["100001"] = Practice("100001", GP_PRACTICE_SOR, "Lægehuset Testvej", address, "66000000", [])
    clinical = population.clinical
    clinical.conditions += [
        Condition("c-sks", HANS, ENDPOINT, "SKS", "DE11", "Type 2-diabetes", ENDOCRINOLOGY_AUH, date(2024, 5, 2)),
        Condition("c-icpc", HANS, "plans-gp", "ICPC2", "T90", "Sukkersyge type 2", GP_PRACTICE_SOR, date(2024, 6, 1)),
        Condition(
            "c-fsiii", HANS, ENDPOINT, "FSIII", "I4.4", "Problemer med tryksår", ODENSE_HOME_CARE, date(2025, 1, 9)
        ),
        Condition(
            "c-snomed", HANS, ENDPOINT, "SNOMED", "13645005", "Kronisk obstruktiv lungesygdom", LUNG_CLINIC,
            date(2023, 11, 20), category="encounter-diagnosis",
        ),
        Condition("c-icpc-kol", HANS, "plans-gp", "ICPC2", "R95", "Kronisk obstruktiv lungesygdom", GP_PRACTICE_SOR,
                  date(2024, 1, 1)),
    ]  # fmt: skip
    clinical.goals += [
        Goal(
            "g-life", HANS, ENDPOINT, "life", "Jeg vil kunne følge mit barnebarn i skole", ODENSE_KOMMUNE,
            date(2025, 2, 1),
        ),
        Goal(
            "g-func", HANS, ENDPOINT, "functional", "Kan selv gå 500 meter med rollator", ODENSE_TRAINING,
            date(2025, 2, 1), expressed_by="practitioner", addresses=["c-fsiii"], due=date(2025, 6, 30),
        ),
        Goal(
            "g-sub", HANS, ENDPOINT, "functional", "Går 200 meter uden pause", ODENSE_TRAINING, date(2025, 2, 10),
            expressed_by="practitioner", profession="fysioterapeut", part_of="g-func", achievement="in-progress",
        ),
        Goal(
            "g-disease", HANS, ENDPOINT, "disease", "HbA1c under 53 mmol/mol", ENDOCRINOLOGY_AUH, date(2024, 5, 2),
            expressed_by="related-person", addresses=["c-sks"],
        ),
    ]  # fmt: skip
    clinical.care_plans.append(
        CarePlan(
            "p-1", HANS, ENDPOINT, "Indsatsplan efter hoftebrud", ODENSE_KOMMUNE, date(2025, 2, 1), date(2025, 8, 1),
            description="Genoptræning og sårpleje i eget hjem", category="kommunal indsatsplan",
            interventions=[
                Intervention(
                    "FSIII", "G1.39", "Sårbehandling", "Skift forbinding hver tredje dag", ODENSE_HOME_CARE,
                    date(2025, 2, 3), goal_ids=["g-func"],
                ),
                Intervention(
                    "KLE", "29.12.08", "Genoptræning efter sundhedsloven", "Gangtræning to gange om ugen",
                    ODENSE_TRAINING, date(2025, 2, 10), date(2025, 5, 1), status="scheduled", goal_ids=["g-sub"],
                ),
            ],
            goal_ids=["g-func", "g-sub"], condition_ids=["c-fsiii"],
        )
    )  # fmt: skip
    return population


def _day(year: int, month: int, day: int) -> PeriodRecord:
    return PeriodRecord(date(year, month, day), date(year, month, day))


def _source(client: Any, page_size: int = 50) -> PlanSource:
    return PlanSource(client, Endpoint(ENDPOINT, OrganisationKind.MUNICIPALITY), page_size=page_size)


def _query(request: Any) -> list[tuple[str, str]]:
    return parse_qsl(request.query)


MUNICIPALITY = OrganisationKind.MUNICIPALITY
HOME_CARE = OrganisationRef(ODENSE_HOME_CARE, "Hjemmeplejen Odense Syd")
TRAINING = OrganisationRef(ODENSE_TRAINING, "Træning og Rehabilitering Odense")


async def test_care_plan_carries_interventions_with_fsiii_and_kle_codes_and_performers(
    world, sandbox_client: SandboxClientFactory
):
    client, _ = sandbox_client(plans.create_app(world, ENDPOINT), "plans")

    found = await _source(client).care_plans_for(ClinicalSearch((HANS,)))

    wound = InterventionRecord(
        "Skift forbinding hver tredje dag", "in-progress", CodingRecord("FSIII", "G1.39", "Sårbehandling"),
        PeriodRecord(date(2025, 2, 3)), HOME_CARE, ("g-func",), _day(2025, 2, 3),
    )  # fmt: skip
    training = InterventionRecord(
        "Gangtræning to gange om ugen", "scheduled",
        CodingRecord("KLE", "29.12.08", "Genoptræning efter sundhedsloven"),
        PeriodRecord(date(2025, 2, 10), date(2025, 5, 1)), TRAINING, ("g-sub",), _day(2025, 2, 10),
    )  # fmt: skip
    assert found.problems == ()
    assert found.by_patient == {
        HANS: [
            CarePlanRecord(
                "p-1", HANS, ENDPOINT, "Indsatsplan efter hoftebrud", "active",
                OrganisationRef(ODENSE_KOMMUNE, "Odense Kommune", MUNICIPALITY),
                PeriodRecord(date(2025, 2, 1), date(2025, 8, 1)), "Genoptræning og sårpleje i eget hjem",
                CodingRecord(plans.PLAN_CATEGORY_SYSTEM, "kommunal-indsatsplan", "kommunal indsatsplan"),
                (wound, training), ("g-func", "g-sub"), ("c-fsiii",), _day(2025, 2, 1),
            )
        ]
    }  # fmt: skip


async def test_sub_goals_point_to_their_overall_goal_with_their_profession(world, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(plans.create_app(world, ENDPOINT), "plans")

    goals = {g.id: g for g in (await _source(client).goals_for(ClinicalSearch((HANS,)))).by_patient[HANS]}

    training = dataclasses.replace(TRAINING, kind=MUNICIPALITY)
    tilstandsmaal, indsatsmaal = plans.KL_CATEGORIES["functional"], plans.KL_CATEGORIES["sub-goal"]
    assert goals["g-func"] == GoalRecord(
        "g-func", HANS, ENDPOINT, GoalKind.FUNCTIONAL, "Kan selv gå 500 meter med rollator", "active", training,
        expressed_by="practitioner", addresses=("c-fsiii",), start=_day(2025, 2, 1), due=_day(2025, 6, 30),
        category=CodingRecord(plans.KL_CARE_SOCIAL_SYSTEM, *tilstandsmaal),
    )  # fmt: skip
    assert goals["g-sub"] == GoalRecord(
        "g-sub", HANS, ENDPOINT, GoalKind.FUNCTIONAL, "Går 200 meter uden pause", "active", training,
        expressed_by="practitioner", profession="fysioterapeut", part_of="g-func", achievement="in-progress",
        category=CodingRecord(plans.KL_CARE_SOCIAL_SYSTEM, *indsatsmaal), start=_day(2025, 2, 10),
    )  # fmt: skip


async def test_goals_keep_their_kind_description_and_who_expressed_them(world, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(plans.create_app(world, ENDPOINT), "plans")

    goals = (await _source(client).goals_for(ClinicalSearch((HANS,)))).by_patient[HANS]

    assert [(g.id, g.kind, g.expressed_by, g.category.display if g.category else None) for g in goals] == [
        ("g-life", GoalKind.LIFE, "patient", "Borgers mål og ønsker"),
        ("g-func", GoalKind.FUNCTIONAL, "practitioner", "FSIII tilstandsmål"),
        ("g-sub", GoalKind.FUNCTIONAL, "practitioner", "FSIII indsatsmål"),
        ("g-disease", GoalKind.DISEASE, "related-person", None),
    ]
    assert goals[0].description == "Jeg vil kunne følge mit barnebarn i skole"


async def test_diagnoses_come_in_every_code_system_with_danish_text(world, sandbox_client: SandboxClientFactory):
    municipal, _ = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    gp, _ = sandbox_client(plans.create_app(world, "plans-gp"), "plans-gp")
    gp_source = PlanSource(gp, Endpoint("plans-gp", OrganisationKind.GP))

    found = (await _source(municipal).conditions_for(ClinicalSearch((HANS,)))).by_patient[HANS]
    found += (await gp_source.conditions_for(ClinicalSearch((HANS,)))).by_patient[HANS]

    assert [(c.id, c.code_system, c.code, c.display) for c in found] == [
        ("c-sks", DiagnosisCodeSystem.SKS, "DE11", "Type 2-diabetes"),
        ("c-fsiii", DiagnosisCodeSystem.FSIII, "I4.4", "Problemer med tryksår"),
        ("c-snomed", DiagnosisCodeSystem.SNOMED, "13645005", "Kronisk obstruktiv lungesygdom"),
        ("c-icpc", DiagnosisCodeSystem.ICPC2, "T90", "Sukkersyge type 2"),
        ("c-icpc-kol", DiagnosisCodeSystem.ICPC2, "R95", "Kronisk obstruktiv lungesygdom"),
    ]
    practice = OrganisationRef(GP_PRACTICE_SOR, "Lægehuset Testvej", OrganisationKind.GP)
    assert found[3] == ConditionRecord(
        "c-icpc", HANS, "plans-gp", DiagnosisCodeSystem.ICPC2, "T90", "Sukkersyge type 2", practice, "active",
        "problem-list-item", recorded=_day(2024, 6, 1),
    )  # fmt: skip
    assert (found[2].category, found[2].recorded) == ("encounter-diagnosis", _day(2023, 11, 20))


@pytest.mark.parametrize("spec", PLAN_ENDPOINTS, ids=[e.name for e in PLAN_ENDPOINTS])
async def test_everything_a_generated_population_holds_reads_back(
    population, sandbox_client: SandboxClientFactory, spec: EndpointSpec
):
    client, _ = sandbox_client(plans.create_app(population, spec.name), spec.name)
    source = PlanSource(client, Endpoint(spec.name, OrganisationKind(spec.kind) if spec.kind else None))
    world = population.clinical
    search = ClinicalSearch(tuple(sorted(population.persons)))

    found: dict[str, dict[str, list[Any]]] = {
        "plans": (await source.care_plans_for(search)).by_patient,
        "goals": (await source.goals_for(search)).by_patient,
        "conditions": (await source.conditions_for(search)).by_patient,
    }

    error = "entered-in-error"
    served = {
        "plans": [(p.cpr, p.id) for p in world.care_plans if p.endpoint == spec.name and p.status != error],
        "goals": [(g.cpr, g.id) for g in world.goals if g.endpoint == spec.name and g.status != error],
        "conditions": [(c.cpr, c.id) for c in world.conditions if c.endpoint == spec.name and c.wire is None],
    }
    odd = [c for c in world.conditions if c.endpoint == spec.name and c.wire is not None]  # unreadable on purpose
    for kind, by_patient in found.items():
        assert sorted((r.cpr, r.id) for records in by_patient.values() for r in records) == sorted(served[kind])
    assert len((await source.conditions_for(search)).problems) == len(odd)


async def test_every_asked_cpr_is_answered_by_one_request(world, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")

    found = (await _source(client).conditions_for(ClinicalSearch((HANS, ANNE, HANS)))).by_patient

    assert set(found) == {HANS, ANNE}
    assert found[ANNE] == []
    assert [c.id for c in found[HANS]] == ["c-sks", "c-fsiii", "c-snomed"]
    assert [r.path for r in controlled.recorder.requests] == ["/fhir/Condition"]
    assert ("patient.identifier", f"{CPR_OID}|{HANS},{ANNE}") in _query(controlled.recorder.requests[0])


@pytest.mark.parametrize(
    ("method", "path", "date_param"),
    [
        ("care_plans_for", "/fhir/CarePlan", "period-start"),
        ("goals_for", "/fhir/Goal", "start-date"),
        ("conditions_for", "/fhir/Condition", "recorded-date"),
    ],
)
async def test_window_and_excluded_organisations_are_pushed_down(
    world, sandbox_client: SandboxClientFactory, method: str, path: str, date_param: str
):
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    search = ClinicalSearch(
        (HANS,), DateWindow(date(2025, 1, 1), date(2026, 1, 1)), frozenset({ODENSE_HOME_CARE, ENDOCRINOLOGY_AUH})
    )

    await getattr(_source(client), method)(search)

    [request] = controlled.recorder.requests
    assert request.path == path
    assert sorted(_query(request)) == sorted(
        [
            ("patient.identifier", f"{CPR_OID}|{HANS}"),
            (date_param, "ge2025-01-01"),
            (date_param, "lt2026-01-01"),
            ("custodian:not", f"{SOR_OID}|{ENDOCRINOLOGY_AUH}"),
            ("custodian:not", f"{SOR_OID}|{ODENSE_HOME_CARE}"),
            ("_count", "50"),
        ]
    )


async def test_sandbox_leaves_out_excluded_organisations_and_items_outside_the_window(
    world, sandbox_client: SandboxClientFactory
):
    client, _ = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    source = _source(client)

    in_2025 = ClinicalSearch((HANS,), DateWindow(date(2025, 1, 1), date(2026, 1, 1)))
    no_training = ClinicalSearch((HANS,), exclude_organisations=frozenset({ODENSE_TRAINING}))

    assert [c.id for c in (await source.conditions_for(in_2025)).by_patient[HANS]] == ["c-fsiii"]
    assert [g.id for g in (await source.goals_for(in_2025)).by_patient[HANS]] == ["g-life", "g-func", "g-sub"]
    assert [g.id for g in (await source.goals_for(no_training)).by_patient[HANS]] == ["g-life", "g-disease"]


async def test_a_plan_running_into_the_window_is_served_but_only_plans_starting_in_it_are_returned(
    world, sandbox_client: SandboxClientFactory
):
    world.clinical.care_plans.append(
        CarePlan("p-old", HANS, ENDPOINT, "Forløbsplan KOL", ODENSE_KOMMUNE, date(2024, 10, 1))
    )
    client, _ = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    in_2025 = ClinicalSearch((HANS,), DateWindow(date(2025, 1, 1), date(2026, 1, 1)))
    query = {"patient.identifier": f"{CPR_OID}|{HANS}", "date": ["ge2025-01-01", "lt2026-01-01"]}

    served = await client.get_json("/fhir/CarePlan", httpx.QueryParams(query))
    found = await _source(client).care_plans_for(in_2025)

    assert [e["resource"]["id"] for e in served["entry"]] == ["p-1", "p-old"]
    assert [p.id for p in found.by_patient[HANS]] == ["p-1"]


async def test_next_links_are_followed_until_the_last_page(world, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")

    conditions = (await _source(client, page_size=1).conditions_for(ClinicalSearch((HANS,)))).by_patient[HANS]

    assert [c.id for c in conditions] == ["c-sks", "c-fsiii", "c-snomed"]
    assert len(controlled.recorder.requests) == 3
    assert [dict(_query(r)).get("_offset") for r in controlled.recorder.requests] == [None, "1", "2"]


async def test_nothing_is_asked_for_no_patients_or_an_empty_window(world, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")

    assert (await _source(client).goals_for(ClinicalSearch(()))).by_patient == {}
    empty = DateWindow(date(2025, 1, 1), date(2025, 1, 1))
    assert (await _source(client).goals_for(ClinicalSearch((HANS,), empty))).by_patient == {HANS: []}
    assert controlled.recorder.requests == []


async def test_excluding_only_the_owning_organisation_still_asks_for_its_units_items(
    world, sandbox_client: SandboxClientFactory
):
    # a block on the municipality itself, without sub-units, must not hide its units' goals;
    # skipping a wholly blocked endpoint is the gateway's decision (resolvers/gather.py)
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    owned = PlanSource(client, Endpoint(ENDPOINT, OrganisationKind.MUNICIPALITY, ODENSE_KOMMUNE))

    await owned.goals_for(ClinicalSearch((HANS,), exclude_organisations=frozenset({ODENSE_KOMMUNE})))

    assert len(controlled.recorder.requests) == 1


async def test_sandbox_refuses_unknown_parameters_and_malformed_values(world):
    app = plans.create_app(world, ENDPOINT)
    identifier = f"{CPR_OID}|{HANS}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as http:
        answers = [
            await http.get("/fhir/Goal", params={"patient.identifier": identifier, "date": "ge2025-01-01"}),
            await http.get("/fhir/Goal", params={"patient.identifier": "12345"}),
            await http.get("/fhir/Goal", params={"patient.identifier": identifier, "start-date": "soon"}),
            await http.get("/fhir/Goal", params={"patient.identifier": identifier, "custodian:not": "x|y"}),
            await http.get("/fhir/Goal", params={"patient.identifier": identifier, "_count": "0"}),
        ]
        fine = await http.get("/fhir/Goal", params={"patient.identifier": identifier, "start-date": "lt2025-01-01"})

    assert [a.status_code for a in answers] == [400] * len(answers)
    assert all(a.json()["resourceType"] == "OperationOutcome" for a in answers)
    assert fine.status_code == 200
    assert [e["resource"]["id"] for e in fine.json()["entry"]] == ["g-disease"]


def _custodian(sor: str = ODENSE_KOMMUNE, name: str | None = "Odense Kommune") -> dict[str, Any]:
    reference: dict[str, Any] = {"identifier": {"system": SOR_OID, "value": sor}}
    if name:
        reference["display"] = name
    return {"url": "http://patientoverblik.dk/fhir/StructureDefinition/custodian", "valueReference": reference}


def _subject(cpr: str = HANS) -> dict[str, Any]:
    return {"identifier": {"system": CPR_OID, "value": cpr}}


def _condition(item_id: str = "c-1", sor: str = ODENSE_KOMMUNE, recorded: str | None = "2025-03-01", **extra: Any):
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": item_id,
        "extension": [_custodian(sor)],
        "subject": _subject(),
        "code": {"coding": [{"system": "urn:oid:1.2.208.176.2.4.12", "code": "DE11", "display": "Type 2-diabetes"}]},
    }
    if recorded:
        resource["recordedDate"] = recorded
    return resource | extra


def _goal(item_id: str = "g-1", start: str | None = "2025-03-01", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "id": item_id,
        "extension": [_custodian()],
        "subject": _subject(),
        "lifecycleStatus": "active",
        "category": [{"coding": [{"system": "http://patientoverblik.dk/fhir/CodeSystem/goal-kind", "code": "life"}]}],
        "description": {"text": "At kunne cykle til stranden"},
    }
    if start:
        resource["startDate"] = start
    return resource | extra


def _plan(item_id: str = "p-1", author: str | None = ODENSE_KOMMUNE, **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "CarePlan",
        "id": item_id,
        "extension": [_custodian()],
        "subject": _subject(),
        "status": "active",
        "intent": "plan",
        "title": "Indsatsplan",
        "period": {"start": "2025-03-01"},
    }
    if author:
        resource["author"] = {"identifier": {"system": SOR_OID, "value": author}, "display": "Afsender"}
    return resource | extra


def _bundle(*resources: dict[str, Any], next_url: str | None = None) -> dict[str, Any]:
    links = [{"relation": "next", "url": next_url}] if next_url else []
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": [{"resource": r} for r in resources]}


def _answering(body: dict[str, Any]):
    return lambda request: httpx.Response(200, json=body)


async def test_excluded_organisations_are_dropped_even_when_the_upstream_returns_them(mock_client: MockClientFactory):
    conditions = _bundle(_condition("kept"), _condition("blocked", sor=ODENSE_HOME_CARE))
    care_plans = _bundle(_plan("kept"), _plan("blocked-author", author=ODENSE_HOME_CARE))
    search = ClinicalSearch((HANS,), exclude_organisations=frozenset({ODENSE_HOME_CARE}))

    found_conditions = await _source(mock_client(_answering(conditions), "plans")).conditions_for(search)
    found_plans = await _source(mock_client(_answering(care_plans), "plans")).care_plans_for(search)

    assert [c.id for c in found_conditions.by_patient[HANS]] == ["kept"]
    assert [p.id for p in found_plans.by_patient[HANS]] == ["kept"]


async def test_items_outside_the_window_are_dropped_and_undated_items_kept(mock_client: MockClientFactory):
    body = _bundle(
        _goal("before", "2024-12-31"), _goal("first-day", "2025-01-01"), _goal("end-day", "2025-02-01"),
        _goal("undated", None),
    )  # fmt: skip
    search = ClinicalSearch((HANS,), DateWindow(date(2025, 1, 1), date(2025, 2, 1)))

    found = await _source(mock_client(_answering(body), "plans")).goals_for(search)

    assert [g.id for g in found.by_patient[HANS]] == ["first-day", "undated"]


async def test_entered_in_error_is_never_returned_and_cancelled_only_when_asked(mock_client: MockClientFactory):
    error = {"coding": [{"code": "entered-in-error"}]}
    body = _bundle(
        _goal("active"),
        _goal("cancelled", lifecycleStatus="cancelled"),
        _goal("wrong", lifecycleStatus="entered-in-error"),
    )
    source = _source(mock_client(_answering(body), "plans"))
    conditions = _source(
        mock_client(_answering(_bundle(_condition("ok"), _condition("x", verificationStatus=error))), "p")
    )

    with_cancelled = await source.goals_for(ClinicalSearch((HANS,)))
    without = await source.goals_for(ClinicalSearch((HANS,), include_cancelled=False))

    assert [g.id for g in with_cancelled.by_patient[HANS]] == ["active", "cancelled"]
    assert [g.id for g in without.by_patient[HANS]] == ["active"]
    assert [c.id for c in (await conditions.conditions_for(ClinicalSearch((HANS,)))).by_patient[HANS]] == ["ok"]


async def test_the_first_known_code_system_wins_and_text_stands_in_for_its_display(
    mock_client: MockClientFactory,
):
    local = {"system": "urn:local", "code": "X1", "display": "Lokal kode"}
    code = {"coding": [local, {"system": "urn:oid:1.2.208.176.2.31", "code": "T90"}], "text": "Sukkersyge type 2"}
    body = _bundle(_condition("icpc", code=code), _condition("local", code={"coding": [local]}))

    found = (await _source(mock_client(_answering(body), "plans")).conditions_for(ClinicalSearch((HANS,)))).by_patient[
        HANS
    ]

    assert [(c.code_system, c.code, c.display) for c in found] == [
        (DiagnosisCodeSystem.ICPC2, "T90", "Sukkersyge type 2"),
        (DiagnosisCodeSystem.OTHER, "X1", "Lokal kode"),
    ]


async def test_a_goals_kind_is_read_from_the_kl_category_when_it_has_no_goal_kind(mock_client: MockClientFactory):
    tilstandsmaal = {"system": plans.KL_CARE_SOCIAL_SYSTEM, "code": plans.KL_CATEGORIES["functional"][0]}
    body = _bundle(_goal(category=[{"coding": [tilstandsmaal], "text": "FSIII tilstandsmål"}]))

    [goal] = (await _source(mock_client(_answering(body), "plans")).goals_for(ClinicalSearch((HANS,)))).by_patient[HANS]

    assert goal.kind is GoalKind.FUNCTIONAL
    assert goal.category == CodingRecord(plans.KL_CARE_SOCIAL_SYSTEM, tilstandsmaal["code"], "FSIII tilstandsmål")


async def test_relative_next_links_are_followed_and_repeated_items_returned_once(mock_client: MockClientFactory):
    seen: list[httpx.URL] = []

    def pages(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if "page=2" in str(request.url):
            return httpx.Response(200, json=_bundle(_goal("g-2"), _goal("g-3")))
        return httpx.Response(200, json=_bundle(_goal("g-1"), _goal("g-2"), next_url="/fhir/Goal?page=2"))

    found = await _source(mock_client(pages, "plans")).goals_for(ClinicalSearch((HANS,)))

    assert [g.id for g in found.by_patient[HANS]] == ["g-1", "g-2", "g-3"]
    assert [(u.host, u.path) for u in seen] == [("plans.mock", "/fhir/Goal")] * 2


@pytest.mark.parametrize(
    "next_url",
    ["http://elsewhere.example/fhir/Goal?page=2", "https://plans.mock/fhir/Goal?page=2", "/other/Goal?page=2"],
    ids=["other-host", "other-scheme", "other-base"],
)
async def test_a_next_link_that_leaves_the_source_is_not_followed_and_the_answer_is_partial(
    mock_client: MockClientFactory, next_url: str
):
    seen: list[httpx.URL] = []

    def page(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=_bundle(_goal(), next_url=next_url))

    found = await _source(mock_client(page, "plans")).goals_for(ClinicalSearch((HANS,)))

    assert [g.id for g in found.by_patient[HANS]] == ["g-1"]
    assert [type(p.error) for p in found.problems] == [SourceResponseInvalid]
    assert len(seen) == 1


async def test_endless_paging_stops_at_the_page_budget_with_the_items_so_far(mock_client: MockClientFactory):
    seen: list[httpx.URL] = []

    def page(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=_bundle(_goal(f"g-{len(seen)}"), next_url=f"/fhir/Goal?page={len(seen) + 1}"))

    found = await _source(mock_client(page, "plans")).goals_for(ClinicalSearch((HANS,)))

    assert len(seen) == MAX_PAGES
    assert len(found.by_patient[HANS]) == MAX_PAGES
    assert [(type(p.error), p.error.source) for p in found.problems] == [(SourceIncomplete, "plans")]


async def test_a_resource_for_a_patient_that_was_not_asked_for_is_left_out_and_reported(
    mock_client: MockClientFactory,
):
    body = _bundle(_goal("mine"), _goal("theirs", subject=_subject(ANNE)))

    found = await _source(mock_client(_answering(body), "plans")).goals_for(ClinicalSearch((HANS,)))

    assert [g.id for g in found.by_patient[HANS]] == ["mine"]
    [problem] = found.problems
    assert ANNE not in str(problem.error)
    assert HANS not in str(problem.error)


_BAD_GOALS: dict[str, dict[str, Any]] = {
    "no-custodian": _goal(extension=[]),
    "custodian-not-sor": _goal(extension=[{"url": _custodian()["url"], "valueReference": {"display": "Et sted"}}]),
    "subject-not-cpr": _goal(subject={"identifier": {"system": "urn:other", "value": HANS}}),
    "unknown-status": _goal(lifecycleStatus="maybe"),
    "bad-date": _goal(startDate=20250301),
    "no-kind": _goal(category=[]),
    "unknown-kind": _goal(category=[{"coding": [{"system": plans.GOAL_KIND_SYSTEM, "code": "dream"}]}]),
    "no-description": _goal(description={}),
    "relationship-without-target": _goal(
        extension=[
            _custodian(),
            {
                "url": plans.GOAL_RELATIONSHIP_URL,
                "extension": [{"url": "type", "valueCodeableConcept": {"text": "based-on"}}],
            },
        ]
    ),
    "expressed-by-a-device": _goal(expressedBy={"reference": "Device/d-1"}),
    "bad-id": _goal(id="a b"),
}


@pytest.mark.parametrize("goal", list(_BAD_GOALS.values()), ids=list(_BAD_GOALS))
async def test_a_malformed_goal_is_left_out_and_reported_the_others_kept(
    mock_client: MockClientFactory, goal: dict[str, Any]
):
    body = _bundle(_goal("fine"), goal)

    found = await _source(mock_client(_answering(body), "plans")).goals_for(ClinicalSearch((HANS,)))

    assert [g.id for g in found.by_patient[HANS]] == ["fine"]
    [problem] = found.problems
    assert isinstance(problem.error, SourceResponseInvalid)
    assert problem.error.source == "plans"
    assert HANS not in str(problem.error)
    assert HANS not in str(problem.error.__cause__)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("care_plans_for", _bundle(_plan(status="ongoing"))),
        ("care_plans_for", _bundle(_plan(extension=[], author=None))),
        ("care_plans_for", _bundle(_plan(title=None))),
        ("care_plans_for", _bundle(_plan(activity=[{"detail": {"status": "in-progress"}}]))),
        ("conditions_for", _bundle(_condition(code={"text": "Diabetes"}))),
        ("conditions_for", _bundle(_condition(recordedDate="yesterday"))),
        ("conditions_for", _bundle(_condition(onsetDateTime="2019", onsetString="i barndommen"))),
        ("conditions_for", {"resourceType": "Bundle", "entry": [{"resource": "Condition"}]}),
    ],
    ids=[
        "plan-status",
        "plan-without-owner",
        "plan-without-title",
        "intervention-without-text",
        "condition-without-coding",
        "condition-bad-date",
        "condition-two-onsets",
        "entry-not-a-resource",
    ],
)
async def test_a_malformed_plan_or_condition_is_left_out_and_reported(
    mock_client: MockClientFactory, method: str, body: dict[str, Any]
):
    found = await getattr(_source(mock_client(_answering(body), "plans")), method)(ClinicalSearch((HANS,)))

    assert found.by_patient == {HANS: []}
    [problem] = found.problems
    assert isinstance(problem.error, SourceResponseInvalid)
    assert HANS not in str(problem.error)


async def test_an_answer_that_is_not_a_bundle_is_invalid(mock_client: MockClientFactory):
    body = {"resourceType": "OperationOutcome", "issue": []}

    with pytest.raises(SourceResponseInvalid) as caught:
        await _source(mock_client(_answering(body), "plans")).conditions_for(ClinicalSearch((HANS,)))

    assert HANS not in str(caught.value)


@pytest.mark.parametrize("method", ["care_plans_for", "goals_for", "conditions_for"])
async def test_server_error_is_unavailable(mock_client: MockClientFactory, method: str):
    client = mock_client(lambda request: httpx.Response(500, json={"error": f"no patient {HANS}"}), "plans")

    with pytest.raises(SourceUnavailable) as caught:
        await getattr(_source(client), method)(ClinicalSearch((HANS,)))

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout) as caught:
        await _source(mock_client(hang, "plans")).care_plans_for(ClinicalSearch((HANS,)))

    assert HANS not in str(caught.value)


async def test_garbage_and_non_json_are_invalid(world, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    source = _source(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.conditions_for(ClinicalSearch((HANS,)))


async def test_plans_are_searched_by_their_start_so_a_plan_started_in_a_blocked_period_is_never_served(
    world, sandbox_client: SandboxClientFactory
):
    # a plan started 2019 and still running: FHIR's date=ge2021-01-01 (overlap) would serve it
    world.clinical.care_plans.append(CarePlan("p-2019", HANS, ENDPOINT, "Forløb", ODENSE_KOMMUNE, date(2019, 6, 1)))
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    after_block = ClinicalSearch((HANS,), DateWindow(date(2021, 1, 1)))

    exact = await _source(client).care_plans_for(after_block)
    served = await client.get_json(
        "/fhir/CarePlan", {"patient.identifier": f"{CPR_OID}|{HANS}", "period-start": "ge2021-01-01"}
    )

    assert [p.id for p in exact.by_patient[HANS]] == ["p-1"]
    assert ("period-start", "ge2021-01-01") in _query(controlled.recorder.requests[0])
    assert [e["resource"]["id"] for e in served["entry"]] == ["p-1"]  # never fetched, not just dropped


async def test_a_source_without_the_start_search_gets_fhirs_date_and_the_gateway_drops_what_started_before(
    world, sandbox_client: SandboxClientFactory
):
    world.clinical.care_plans.append(CarePlan("p-2019", HANS, ENDPOINT, "Forløb", ODENSE_KOMMUNE, date(2019, 6, 1)))
    client, controlled = sandbox_client(plans.create_app(world, ENDPOINT), "plans")
    source = PlanSource(client, Endpoint(ENDPOINT, OrganisationKind.MUNICIPALITY, plan_start_search=False))

    found = await source.care_plans_for(ClinicalSearch((HANS,), DateWindow(date(2021, 1, 1))))

    assert [p.id for p in found.by_patient[HANS]] == ["p-1"]
    assert ("date", "ge2021-01-01") in _query(controlled.recorder.requests[0])


@pytest.mark.parametrize(
    ("recorded", "onset", "dated"),
    [
        ("2019-06", None, (date(2019, 6, 1), date(2019, 6, 30))),
        ("2019", None, (date(2019, 1, 1), date(2019, 12, 31))),
        ("2018-12-31T23:30:00Z", None, (date(2019, 1, 1), date(2019, 1, 1))),
        ("2019-01-01T00:30:00+01:00", None, (date(2019, 1, 1), date(2019, 1, 1))),
        (None, {"onsetPeriod": {"start": "2018-10", "end": "2019-02"}}, (date(2018, 10, 1), date(2019, 2, 28))),
        (None, {"onsetPeriod": {"start": "2018-10-03"}}, (date(2018, 10, 3), None)),
        (None, {"onsetDateTime": "2019-02"}, (date(2019, 2, 1), date(2019, 2, 28))),
        (None, {"onsetAge": {"value": 40, "code": "a", "system": "http://unitsofmeasure.org"}}, None),
        (None, {"onsetString": "i barndommen"}, None),
        (None, {"onsetRange": {"low": {"value": 30}}}, None),
    ],
)
async def test_a_diagnosis_is_dated_by_every_date_it_may_denote(
    mock_client: MockClientFactory, recorded: str | None, onset: dict[str, Any] | None, dated: tuple[Any, Any] | None
):
    body = _bundle(_condition("c", recorded=recorded, **(onset or {})))

    found = await _source(mock_client(_answering(body), "plans")).conditions_for(ClinicalSearch((HANS,)))

    [condition] = found.by_patient[HANS]
    assert found.problems == ()
    assert condition.dated == (PeriodRecord(*dated) if dated else None)
