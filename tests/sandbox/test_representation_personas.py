"""The personas who act for others: fuldmagt holders, parents, a guardian, an assistant (docs/sandbox.md)."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.clinical import ORGANISATIONS
from sandbox.population import Population, build_population

ON = date(2026, 11, 21)
"""A fixed day for the age rules (parents' access ends at 15)."""


@pytest.fixture(scope="module")
def population() -> Population:
    return build_population(seed=2016, patients=0)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def test_representatives_hold_the_documented_powers_from_hans(population: Population):
    personas = population.personas
    powers = {p.holder_cpr: p for p in population.powers_of_attorney if p.giver_cpr == personas["hans"]}

    full = powers[personas["representative"]]
    assert set(full.scopes) == {"overview", "master_card", "access_log", "blocks"}
    assert (full.valid_from, full.valid_to) == (date(2025, 1, 1), None)
    assert powers[personas["representative_limited"]].scopes == ["master_card"]
    assert powers[personas["representative_expired"]].valid_to == date(2025, 6, 30)
    lise = population.persons[personas["representative"]]
    assert (lise.given_name, lise.family_name) == ("Lise Test", "Jensen")


def test_every_power_is_between_two_known_persons(population: Population):
    for power in population.powers_of_attorney:
        assert power.giver_cpr in population.persons
        assert power.holder_cpr in population.persons
        assert power.giver_cpr != power.holder_cpr


def test_the_guardian_is_the_wards_guardian(population: Population):
    personas = population.personas

    assert personas["guardian"] == "0108629996"
    assert population.persons[personas["ward"]].guardians == [personas["guardian"]]


def test_child_15_is_15_and_child_under_15_is_younger_both_in_their_parents_custody(population: Population):
    personas = population.personas
    parents = [personas["mother"], personas["father"]]
    teen, child = population.persons[personas["child_15"]], population.persons[personas["child_under_15"]]

    assert age_on(teen.birth_date, ON) >= 15
    assert age_on(child.birth_date, ON) < 15
    assert teen.custody_holders == parents
    assert child.custody_holders == parents


def test_every_professional_has_a_profession_and_the_sor_trees_organisation_name(population: Population):
    names = {o.sor: o.name for o in ORGANISATIONS} | {p.sor: p.name for p in population.practices.values()}

    for professional in population.professionals.values():
        assert professional.profession
        assert professional.organisation_name == names[professional.organisation_sor]


def test_the_assistant_acts_for_mette_test_larsen(population: Population):
    mette = population.professionals["CBDJ6"]

    assert mette.assistants == {"medhjaelp-0042": "Camilla Test Berg"}
    assert all(not p.assistants for key, p in population.professionals.items() if key != "CBDJ6")
