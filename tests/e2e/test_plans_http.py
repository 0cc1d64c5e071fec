"""Plans, goals and diagnoses for the KOL + diabetes persona, from the GP, municipal and hospital sources."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, KOL, Gateway, error_codes, recorded

PLANS = """
query Plans($cpr: CPR!) {
  patient(cpr: $cpr) {
    plans {
      complete withheld sources { source state }
      nodes {
        id title status category { code display } organisation { sorId name kind } period { start end }
        interventions { description status code { system code display } performer { name } goalIds }
        goalIds diagnosisIds source
      }
    }
    goals {
      complete
      nodes { id kind description status expressedBy profession partOfId diagnosisIds subGoals { id profession } }
    }
    diagnoses { complete nodes { id codeSystem code display organisation { name } } }
  }
}
"""

PLAN_SOURCES = {"plans-gp", "plans-municipality", "plans-hospital"}


def section(body: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = body["data"]["patient"][name]
    return result


async def test_the_kol_and_diabetes_persona_has_plans_from_gp_municipality_and_hospital(gateway: Gateway) -> None:
    body = await gateway.graphql(PLANS, gateway.citizen(KOL), cpr=KOL)

    assert error_codes(body) == []
    plans = section(body, "plans")
    assert plans["complete"] and not plans["withheld"]
    assert {p["source"] for p in plans["nodes"]} == PLAN_SOURCES
    assert {p["organisation"]["kind"] for p in plans["nodes"]} == {"GP", "MUNICIPALITY", "REGION"}
    interventions = [i for p in plans["nodes"] for i in p["interventions"]]
    assert interventions and all(i["code"] and i["code"]["display"] for i in interventions)


async def test_goals_of_all_three_kinds_with_profession_sub_goals_linked_to_overall_goals(gateway: Gateway) -> None:
    body = await gateway.graphql(PLANS, gateway.citizen(KOL), cpr=KOL)

    goals = section(body, "goals")["nodes"]
    assert {g["kind"] for g in goals} == {"LIFE", "DISEASE", "FUNCTIONAL"}
    by_id = {g["id"]: g for g in goals}
    subs = [g for g in goals if g["partOfId"]]
    assert subs and all(g["profession"] for g in subs)
    for sub in subs:
        assert sub["id"] in {s["id"] for s in by_id[sub["partOfId"]]["subGoals"]}
    diagnoses = {d["id"] for d in section(body, "diagnoses")["nodes"]}
    assert any(g["diagnosisIds"] for g in goals)
    assert all(set(g["diagnosisIds"]) <= diagnoses for g in goals)


async def test_diagnoses_carry_their_code_system_and_danish_text(gateway: Gateway) -> None:
    body = await gateway.graphql(PLANS, gateway.citizen(KOL), cpr=KOL)

    diagnoses = section(body, "diagnoses")["nodes"]
    assert {"SKS", "ICPC2"} <= {d["codeSystem"] for d in diagnoses}
    assert all(d["display"] for d in diagnoses)


async def test_one_plan_source_down_gives_the_others_plans_and_an_error_naming_it(gateway: Gateway) -> None:
    gateway.sandbox.control("plans-hospital").faults.update({"mode": "down"})

    body = await gateway.graphql(PLANS, gateway.citizen(KOL), cpr=KOL)

    assert set(error_codes(body)) == {("SOURCE_UNAVAILABLE", "plans-hospital")}
    plans = section(body, "plans")
    assert not plans["complete"]
    assert {p["source"] for p in plans["nodes"]} == {"plans-gp", "plans-municipality"}


async def test_a_professional_without_a_relation_fetches_no_plans(gateway: Gateway) -> None:
    body = await gateway.graphql(PLANS, gateway.professional("X2P9K"), cpr=KOL)

    assert error_codes(body) == [("FORBIDDEN", None)]
    for name in PLAN_SOURCES:
        assert recorded(gateway.sandbox, name) == 0


async def test_a_professional_with_a_relation_and_no_blocks_sees_plans_not_withheld(gateway: Gateway) -> None:
    body = await gateway.graphql(PLANS, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=KOL)

    assert error_codes(body) == []
    assert section(body, "plans")["nodes"] and not section(body, "plans")["withheld"]


async def test_asking_only_for_diagnoses_fetches_no_plans_or_goals(gateway: Gateway) -> None:
    body = await gateway.graphql(
        "query($cpr: CPR!) { patient(cpr: $cpr) { diagnoses { nodes { code } } } }", gateway.citizen(KOL), cpr=KOL
    )

    assert section(body, "diagnoses")["nodes"]
    paths = [r.path for name in PLAN_SOURCES for r in gateway.sandbox.control(name).recorder.requests]
    assert paths and all(p.endswith("/Condition") for p in paths)
