"""The synthetic population: deterministic, safe CPR numbers, personas as documented."""

from __future__ import annotations

from datetime import date

from sandbox.cprgen import birth_date_of, passes_mod11
from sandbox.population import build_population


def test_same_seed_gives_the_same_population():
    first = build_population(seed=7, patients=300)
    second = build_population(seed=7, patients=300)

    assert first.persons == second.persons
    assert first.practices == second.practices
    assert first.master_cards == second.master_cards
    assert first.relations == second.relations


def test_another_seed_gives_other_generated_persons_but_the_same_personas():
    first = build_population(seed=7, patients=300)
    other = build_population(seed=8, patients=300)

    assert set(first.persons) != set(other.persons)
    assert first.personas == other.personas


def test_persona_cprs_fail_modulus_11():
    population = build_population(seed=2016, patients=0)

    assert population.personas
    for key, cpr in population.personas.items():
        assert not passes_mod11(cpr), key


def test_persona_cprs_encode_their_birth_dates():
    population = build_population(seed=2016, patients=0)
    expected = {
        "hans": date(1972, 3, 14),
        "dead": date(1938, 6, 5),
        "emigrated": date(1985, 11, 30),
        "child_under_15": date(2015, 6, 10),
        "child_15": date(2011, 4, 2),
    }

    for key, born in expected.items():
        cpr = population.personas[key]
        assert birth_date_of(cpr) == born, key
        assert population.persons[cpr].birth_date == born, key


def test_every_cpr_is_ten_digits_with_sex_parity_and_no_1_january():
    population = build_population(seed=2016, patients=500)

    for cpr, person in population.persons.items():
        assert len(cpr) == 10
        assert cpr.isdigit()
        assert (int(cpr[-1]) % 2 == 1) == person.male, cpr
        born = birth_date_of(cpr)
        assert (born.month, born.day) != (1, 1), cpr


def test_ten_thousand_patients_generate_with_unique_non_mod11_cprs():
    population = build_population(seed=2016, patients=10_000)
    generated = set(population.persons) - set(build_population(seed=2016, patients=0).persons)

    assert len(generated) > 9_900  # a few random CPR collisions are skipped
    assert not any(passes_mod11(cpr) for cpr in population.persons)
    for cpr in generated:
        assert date(1930, 1, 1) <= birth_date_of(cpr) <= date(2024, 12, 31), cpr
    assert all(population.persons[cpr].ydernummer in population.practices for cpr in generated)
