"""The sandbox's clinical data: deterministic, consistent with its organisations, scenarios as documented."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest

from sandbox.clinical import (
    AALBORG_KOMMUNE,
    APPOINTMENT_ENDPOINTS,
    DIALYSIS,
    NEPHROLOGY,
    ODENSE_HOME_CARE,
    ODENSE_KOMMUNE,
    OUH,
    PLAN_ENDPOINTS,
    REGION_NORDJYLLAND,
    REGION_SYDDANMARK,
    Appointment,
    ClinicalWorld,
)
from sandbox.population import Population, build_population, copenhagen_today

ANCHOR = date(2026, 3, 25)  # a Wednesday, four days before summer time starts
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BLOCKED_PERIOD = (date(2019, 1, 1), date(2020, 12, 31))

ALLOWED_ENDPOINTS: dict[str, set[tuple[str, ...]]] = {
    REGION_SYDDANMARK: {("region-syddanmark",), ("region-syddanmark", "dds")},
    REGION_NORDJYLLAND: {("region-nordjylland",)},
    ODENSE_KOMMUNE: {("municipality-odense",), ("dds",)},
    AALBORG_KOMMUNE: {("municipality-aalborg",)},
}
"""What each organisation tree may be served by; a GP practice only by ``gp``."""


class _Item(Protocol):
    """A diagnosis, goal or plan."""

    id: str
    cpr: str
    endpoint: str
    organisation_sor: str


@pytest.fixture(scope="module")
def population() -> Population:
    return build_population(seed=2016, patients=1_000, anchor=ANCHOR)


def _root(world: ClinicalWorld, sor: str) -> str:
    while (parent := world.organisations[sor].part_of) is not None:
        sor = parent
    return sor


def _below(world: ClinicalWorld, sor: str) -> set[str]:
    return world.subunits(sor)


def _plan_items(world: ClinicalWorld) -> list[_Item]:
    return [*world.conditions, *world.goals, *world.care_plans]


def _ids(world: ClinicalWorld, cprs: set[str] | None = None) -> list[str]:
    pairs = [(a.id, a.cpr) for a in world.appointments] + [(i.id, i.cpr) for i in _plan_items(world)]
    return [i for i, cpr in pairs if cprs is None or cpr in cprs]


def _of(population: Population, persona: str) -> list[Appointment]:
    cpr = population.personas[persona]
    return [a for a in population.clinical.appointments if a.cpr == cpr]


def _kind(population: Population, appointment: Appointment) -> str:
    return population.clinical.organisations[appointment.organisation_sor].kind


def test_the_same_seed_and_anchor_give_identical_clinical_data():
    first = build_population(seed=7, patients=300, anchor=ANCHOR)
    second = build_population(seed=7, patients=300, anchor=ANCHOR)

    assert first.clinical == second.clinical
    assert first.clinical.appointments


def test_persona_items_keep_their_ids_whatever_the_seed():
    first = build_population(seed=7, patients=50, anchor=ANCHOR)
    other = build_population(seed=8, patients=50, anchor=ANCHOR)
    personas = set(first.personas.values())

    assert _ids(first.clinical, personas) == _ids(other.clinical, personas)


def test_the_anchor_changes_no_person():
    population = build_population(seed=7, patients=300, anchor=ANCHOR)
    without = build_population(seed=7, patients=300, anchor=ANCHOR + timedelta(days=1))

    assert population.persons == without.persons
    assert population.anchor == ANCHOR


def test_the_anchor_defaults_to_today_in_copenhagen():
    before = copenhagen_today()
    population = build_population(seed=2016, patients=0)

    assert population.anchor in {before, copenhagen_today()}


def test_every_gp_practice_is_an_organisation(population: Population):
    for practice in population.practices.values():
        organisation = population.clinical.organisations[practice.sor]
        assert (organisation.name, organisation.kind, organisation.part_of) == (practice.name, "gp", None)
        assert organisation.phone == practice.phone
        assert practice.address.postal_code in (organisation.address or "")


def test_every_appointment_is_served_by_the_endpoints_of_its_organisation(population: Population):
    world = population.clinical
    mislabelled = population.personas["mislabelled_places"]  # served by another sector's endpoint on purpose

    for appointment in world.appointments:
        if appointment.cpr == mislabelled:
            assert appointment.endpoints == ("region-nordjylland",), appointment
            continue
        organisation = world.organisations[appointment.organisation_sor]
        if organisation.kind == "gp":
            assert appointment.endpoints == ("gp",), appointment
        else:
            assert appointment.endpoints in ALLOWED_ENDPOINTS[_root(world, organisation.sor)], appointment


def test_every_referenced_organisation_and_endpoint_exists(population: Population):
    world = population.clinical
    appointment_endpoints = {spec.name for spec in APPOINTMENT_ENDPOINTS}
    plan_endpoints = {spec.name for spec in PLAN_ENDPOINTS}

    for appointment in world.appointments:
        assert set(appointment.endpoints) <= appointment_endpoints
        assert appointment.organisation_sor in world.organisations
        assert appointment.location_sor is None or appointment.location_sor in world.organisations
    for item in _plan_items(world):
        assert item.endpoint in plan_endpoints
        assert item.organisation_sor in world.organisations
    for plan in world.care_plans:
        assert all(i.performer_sor in world.organisations for i in plan.interventions)


def test_ids_are_unique_lowercase_uuids(population: Population):
    ids = _ids(population.clinical)

    assert len(ids) == len(set(ids))
    assert all(UUID.fullmatch(i) for i in ids)


def test_every_datetime_is_timezone_aware_copenhagen_time(population: Population):
    for appointment in population.clinical.appointments:
        moments = [appointment.start, *appointment.earlier_starts]
        moments += [appointment.end] if appointment.end is not None else []
        for moment in moments:
            assert moment.tzinfo is not None and moment.utcoffset() is not None, appointment
            assert moment.tzinfo == COPENHAGEN
        if appointment.all_day:
            assert appointment.start.time() == time(0)
        if appointment.end is not None:  # compared as instants: by wall clock, 02:15+01:00 is before 02:30+02:00
            assert appointment.end.astimezone(UTC) > appointment.start.astimezone(UTC)


def test_statuses_follow_the_anchor_and_withdrawal(population: Population):
    for appointment in population.clinical.appointments:
        if appointment.deprecated:
            assert appointment.status == "cancelled"
            assert "dds" in appointment.endpoints
        elif appointment.status != "cancelled":
            past = appointment.start.date() < ANCHOR
            assert appointment.status == ("fulfilled" if past else "booked"), appointment


def test_hans_sees_a_region_a_municipality_and_his_gp_in_the_anchor_week(population: Population):
    monday = ANCHOR - timedelta(days=ANCHOR.weekday())
    week = [a for a in _of(population, "hans") if monday <= a.start.date() < monday + timedelta(days=7)]

    assert {_kind(population, a) for a in week} == {"region", "municipality", "gp"}
    assert any("dds" in a.endpoints for a in week)
    practice = population.practices[population.persons[population.personas["hans"]].ydernummer or ""]
    assert any(a.organisation_sor == practice.sor for a in week)


def test_hans_has_the_medcom_apd_scenarios_through_dds(population: Population):
    shared = [a for a in _of(population, "hans") if "dds" in a.endpoints]
    regional = [a for a in shared if _kind(population, a) == "region"]

    replaced = [a for a in shared if a.version == 2]
    assert len(replaced) == 1
    assert len(replaced[0].earlier_starts) == 1
    assert replaced[0].earlier_starts[0] != replaced[0].start
    assert [a.status for a in shared if a.deprecated] == ["cancelled"]
    all_day = [a for a in regional if a.all_day]
    assert len(all_day) == 1
    assert all_day[0].start == datetime.combine(all_day[0].start.date(), time(0), COPENHAGEN)
    assert any(a.end is not None and a.end.date() > a.start.date() and not a.all_day for a in regional)
    assert any(a.status == "fulfilled" for a in regional)
    assert all(a.endpoints == ("region-syddanmark", "dds") for a in regional)


def test_hans_home_care_is_shared_only_through_dds_with_an_indicative_time(population: Population):
    home_care = [a for a in _of(population, "hans") if a.organisation_sor == ODENSE_HOME_CARE]

    assert home_care
    for visit in home_care:
        assert visit.endpoints == ("dds",)
        assert visit.at_home
        assert visit.time_note == "Morgen aftale – tidspunktet er vejledende"  # noqa: RUF001
        assert visit.reason_display == "Hjemmehjælp"


def test_hans_has_diagnoses_and_plans_across_sectors(population: Population):
    world, hans = population.clinical, population.personas["hans"]
    codes = {(c.system, c.code) for c in world.conditions if c.cpr == hans}
    plans = {p.endpoint for p in world.care_plans if p.cpr == hans}

    assert {("SKS", "DN184"), ("ICPC2", "K86")} <= codes
    assert plans == {"plans-hospital", "plans-municipality"}
    municipal = next(p for p in world.care_plans if p.cpr == hans and p.endpoint == "plans-municipality")
    assert {i.code_system for i in municipal.interventions} == {"FSIII"}


def test_the_kol_persona_has_overall_goals_of_every_kind_and_professions_sub_goals(population: Population):
    world, cpr = population.clinical, population.personas["kol_diabetes"]
    goals = {g.id: g for g in world.goals if g.cpr == cpr}
    overall = [g for g in goals.values() if g.part_of is None]
    subs = [g for g in goals.values() if g.part_of is not None]

    assert {g.kind for g in overall} == {"life", "disease", "functional"}
    assert any(g.kind == "life" and g.expressed_by == "patient" for g in overall)
    assert subs
    for sub in subs:
        assert sub.part_of in goals
        assert goals[sub.part_of].part_of is None
        assert sub.profession
    assert {"fysioterapeut", "sygeplejerske", "diætist"} <= {g.profession for g in subs}


def test_the_kol_persona_has_plans_with_coded_interventions_and_diagnoses_in_every_system(population: Population):
    world, cpr = population.clinical, population.personas["kol_diabetes"]
    plans = [p for p in world.care_plans if p.cpr == cpr]
    systems = Counter(c.system for c in world.conditions if c.cpr == cpr)

    assert {p.endpoint for p in plans} == {"plans-gp", "plans-municipality", "plans-hospital"}
    assert any(p.category == "forløbsplan" and p.endpoint == "plans-gp" for p in plans)
    interventions = [i for p in plans for i in p.interventions]
    assert interventions
    assert all(i.code and i.code_system in {"FSIII", "KLE", "SKS"} for i in interventions)
    assert any(i.code_system == "FSIII" and i.goal_ids for i in interventions)
    assert {"SKS", "ICPC2", "SNOMED"} <= set(systems)


def test_goals_and_plans_point_at_the_same_patients_existing_items(population: Population):
    world = population.clinical
    conditions = {c.id: c.cpr for c in world.conditions}
    goals = {g.id: g.cpr for g in world.goals}

    for goal in world.goals:
        assert all(conditions.get(i) == goal.cpr for i in goal.addresses), goal
        assert goal.part_of is None or goals.get(goal.part_of) == goal.cpr
    for plan in world.care_plans:
        assert all(conditions.get(i) == plan.cpr for i in plan.condition_ids), plan
        assert all(goals.get(i) == plan.cpr for i in plan.goal_ids), plan
        for intervention in plan.interventions:
            assert all(goals.get(i) == plan.cpr for i in intervention.goal_ids), plan


def test_blocks_places_has_organisation_and_data_period_blocks(population: Population):
    cpr = population.personas["blocks_places"]
    blocks = {b.id: b for b in population.blocks if b.cpr == cpr}

    assert set(blocks) == {"block-2", "block-3", "block-4"}
    assert (blocks["block-2"].organisation_sor, blocks["block-2"].include_subunits) == (OUH, True)
    assert (blocks["block-3"].organisation_sor, blocks["block-3"].include_subunits) == (REGION_NORDJYLLAND, True)
    assert (blocks["block-4"].data_start, blocks["block-4"].data_end) == BLOCKED_PERIOD
    assert all(b.valid_from == date(2024, 1, 1) and b.valid_to is None for b in blocks.values())
    assert ("CBDJ6", cpr) in population.relations


def test_blocks_places_has_items_at_blocked_units_and_inside_the_blocked_period(population: Population):
    world, cpr = population.clinical, population.personas["blocks_places"]
    appointments = _of(population, "blocks_places")
    blocked = _below(world, OUH) | _below(world, REGION_NORDJYLLAND)
    inside = [a for a in appointments if BLOCKED_PERIOD[0] <= a.start.date() <= BLOCKED_PERIOD[1]]

    sors = {a.organisation_sor for a in appointments}
    assert {NEPHROLOGY, DIALYSIS} <= sors
    assert world.organisations[DIALYSIS].part_of == NEPHROLOGY
    assert any(_root(world, s) == REGION_NORDJYLLAND for s in sors)
    assert inside
    assert all(a.organisation_sor not in blocked for a in inside)
    assert any(a.organisation_sor not in blocked and a.start.date() > BLOCKED_PERIOD[1] for a in appointments)
    assert any("dds" in a.endpoints for a in inside)
    assert any("dds" in a.endpoints and a.organisation_sor in blocked for a in appointments)
    items: list[list[_Item]] = [[*world.conditions], [*world.goals], [*world.care_plans]]
    for kind in items:
        mine = [i for i in kind if i.cpr == cpr]
        assert any(i.organisation_sor in blocked for i in mine)
        assert any(i.organisation_sor not in blocked for i in mine)
    dated = [c.recorded for c in world.conditions if c.cpr == cpr]
    assert any(BLOCKED_PERIOD[0] <= d <= BLOCKED_PERIOD[1] for d in dated)


def test_generated_patients_get_appointments_near_the_anchor_in_their_region(population: Population):
    personas = set(population.personas.values())
    world = population.clinical
    generated = [a for a in world.appointments if a.cpr not in personas]
    per_patient = Counter(a.cpr for a in generated)

    assert generated
    assert max(per_patient.values()) <= 12
    assert any(a.endpoints == ("gp",) for a in generated)
    assert any("dds" in a.endpoints for a in generated)
    for appointment in generated:
        assert abs((appointment.start.date() - ANCHOR).days) <= 182
        municipality = population.persons[appointment.cpr].address.municipality_code
        root = _root(world, appointment.organisation_sor)
        if municipality in {"0851", "0860"}:
            assert root not in {REGION_SYDDANMARK, ODENSE_KOMMUNE}
        elif municipality not in {"0461", "0561", "0580"}:
            assert root not in {REGION_NORDJYLLAND, ODENSE_KOMMUNE, AALBORG_KOMMUNE}


def test_about_a_third_of_generated_patients_have_a_gp_plan(population: Population):
    personas = set(population.personas.values())
    world = population.clinical
    with_plan = {p.cpr for p in world.care_plans if p.cpr not in personas}
    generated = [p for p in population.persons if p not in personas]

    assert 0.2 < len(with_plan) / len(generated) < 0.4
    assert all(p.endpoint == "plans-gp" and p.category == "forløbsplan" for p in world.care_plans if p.cpr in with_plan)
    assert {c.system for c in world.conditions if c.cpr in with_plan} == {"ICPC2"}


def test_ten_thousand_patients_build_with_their_clinical_data():
    population = build_population(seed=2016, patients=10_000, anchor=ANCHOR)

    assert len(population.clinical.appointments) > 30_000
    assert len(population.clinical.care_plans) > 2_000
