"""The operation reader finds every patient and category exactly as execution would select them."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from auth.operation import BadOverride, OperationReader, PatientCategories, PreparedOperation, prepare_operation
from auth.plan import Override
from gateway.schema import build_schema
from sources.audit import OverrideGround
from sources.categories import DataCategory

HANS = "1403723705"
KOL = "2309510372"
SCHEMA = build_schema()._schema


def reader(
    query: str, variables: dict[str, Any] | None = None, operation: str | None = None, allowed: Any = None
) -> OperationReader:
    prepared = prepare_operation(SCHEMA, parse(query), operation, variables)
    assert isinstance(prepared, PreparedOperation), prepared
    return OperationReader(SCHEMA, prepared, allowed)


def read(query: str, variables: dict[str, Any] | None = None, operation: str | None = None) -> PatientCategories:
    return reader(query, variables, operation).patients()


def test_categories_are_read_through_nested_fields() -> None:
    found = read(
        f'{{ patient(cpr: "{HANS}") {{ person {{ name }} masterCard {{ registrations {{ organDonor }} }} }} }}'
    )

    assert found == {HANS: {DataCategory.PERSON, DataCategory.MASTER_CARD, DataCategory.REGISTERS}}


def test_fragments_and_inline_fragments_are_followed() -> None:
    query = f"""
    query {{ patient(cpr: "{HANS}") {{ ...Card ... on Patient {{ generalPractitioner {{ name }} }} }} }}
    fragment Card on Patient {{ masterCard {{ phone }} }}
    """
    assert read(query) == {HANS: {DataCategory.MASTER_CARD, DataCategory.GP}}


def test_recursive_fragments_do_not_loop() -> None:
    query = f"""
    query {{ patient(cpr: "{HANS}") {{ ...A }} }}
    fragment A on Patient {{ person {{ name }} ...B }}
    fragment B on Patient {{ ...A }}
    """
    assert read(query) == {HANS: {DataCategory.PERSON}}


@pytest.mark.parametrize(
    ("directive", "variables", "expected"),
    [
        ("@skip(if: true)", {}, set()),
        ("@skip(if: false)", {}, {DataCategory.PERSON}),
        ("@include(if: $on)", {"on": False}, set()),
        ("@include(if: $on)", {"on": True}, {DataCategory.PERSON}),
    ],
)
def test_skip_and_include_are_honoured(directive: str, variables: dict[str, Any], expected: set[DataCategory]) -> None:
    query = f'query($on: Boolean = true) {{ patient(cpr: "{HANS}") {{ person {directive} {{ name }} }} }}'
    assert read(query, variables) == {HANS: expected}


def test_aliases_of_the_same_patient_are_one_patient_and_variables_name_patients() -> None:
    query = """
    query($a: CPR!, $b: CPR!) {
      one: patient(cpr: $a) { person { name } }
      two: patient(cpr: $a) { masterCard { phone } }
      three: patient(cpr: $b) { generalPractitioner { name } }
    }
    """
    found = read(query, {"a": HANS, "b": KOL})

    assert found == {HANS: {DataCategory.PERSON, DataCategory.MASTER_CARD}, KOL: {DataCategory.GP}}


def test_variable_defaults_are_read_as_execution_coerces_them() -> None:
    query = f"""
    query Q($c: CPR! = "{HANS}", $on: Boolean = false) {{
      patient(cpr: $c) {{ person {{ name }} ...@include(if: $on) {{ masterCard {{ phone }} }} }}
    }}
    """

    assert read(query) == {HANS: {DataCategory.PERSON}}
    assert read(query, {"c": KOL, "on": True}) == {KOL: {DataCategory.PERSON, DataCategory.MASTER_CARD}}


@pytest.mark.parametrize(
    ("query", "variables", "operation"),
    [
        ("query($c: CPR!) { patient(cpr: $c) { cpr } }", {"c": "3213723705"}, None),  # the CPR scalar refuses it
        ("query($c: CPR!) { patient(cpr: $c) { cpr } }", {}, None),  # a required variable is missing
        (f'query A {{ patient(cpr: "{HANS}") {{ cpr }} }} query B {{ me {{ kind }} }}', None, None),
        (f'query A {{ patient(cpr: "{HANS}") {{ cpr }} }}', None, "C"),
    ],
)
def test_what_execution_refuses_is_not_prepared(
    query: str, variables: dict[str, Any] | None, operation: str | None
) -> None:
    assert isinstance(prepare_operation(SCHEMA, parse(query), operation, variables), list)


def test_only_the_named_operation_is_read() -> None:
    query = f"""
    query A {{ patient(cpr: "{HANS}") {{ person {{ name }} }} }}
    query B {{ patient(cpr: "{KOL}") {{ masterCard {{ phone }} }} }}
    """
    assert read(query, operation="B") == {KOL: {DataCategory.MASTER_CARD}}


def test_fields_outside_a_patient_touch_no_patient() -> None:
    assert read("{ me { kind } }") == {}


OVERRIDE_QUERY = (
    f'query($o: OverrideInput) {{ patient(cpr: "{HANS}", override: $o) {{ appointments {{ withheld }} }} }}'
)


def overrides(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(reader(query, variables).read().overrides)


def test_an_override_sent_as_a_literal_is_read_with_its_ground_and_reason() -> None:
    literal = '{ground: NOT_CONTACTABLE, reason: "Bevidstløs  ved indlæggelse"}'
    query = f'{{ patient(cpr: "{HANS}", override: {literal}) {{ cpr }} }}'

    assert overrides(query) == {HANS: Override(OverrideGround.NOT_CONTACTABLE, "Bevidstløs ved indlæggelse")}


def test_an_override_sent_as_a_variable_is_read() -> None:
    found = overrides(OVERRIDE_QUERY, {"o": {"ground": "PATIENT_CONSENT", "reason": "Patienten sagde ja i dag"}})

    assert found == {HANS: Override(OverrideGround.PATIENT_CONSENT, "Patienten sagde ja i dag")}


@pytest.mark.parametrize("variables", [{}, {"o": None}, None])
def test_an_omitted_or_null_override_is_no_override(variables: dict[str, Any] | None) -> None:
    assert overrides(OVERRIDE_QUERY, variables) == {}


@pytest.mark.parametrize(
    ("value", "argument"),
    [
        ({"ground": "PATIENT_CONSENT", "reason": "   kort   "}, "override.reason"),
        ({"ground": "PATIENT_CONSENT", "reason": "x" * 501}, "override.reason"),
        ({"ground": "PATIENT_CONSENT", "reason": "Patienten sagde\x00 ja i dag"}, "override.reason"),
    ],
)
def test_a_malformed_override_is_refused_naming_the_part_that_is_wrong(value: object, argument: str) -> None:
    (found,) = overrides(OVERRIDE_QUERY, {"o": value}).values()

    assert isinstance(found, BadOverride) and found.argument == argument


@pytest.mark.parametrize(
    "value",
    [{"ground": "BECAUSE", "reason": "Patienten sagde ja i dag"}, {"ground": "PATIENT_CONSENT"}, "NOT_CONTACTABLE"],
)
def test_an_override_that_is_not_an_override_input_is_refused_before_anything_is_read(value: object) -> None:
    prepared = prepare_operation(SCHEMA, parse(OVERRIDE_QUERY), None, {"o": value})

    assert isinstance(prepared, list) and prepared


def test_different_overrides_for_one_patient_are_refused_in_any_order() -> None:
    query = f"""
    query($a: OverrideInput, $b: OverrideInput) {{
      one: patient(cpr: "{HANS}", override: $a) {{ cpr }} ...Other two: patient(cpr: "{HANS}", override: $b) {{ cpr }}
    }}
    fragment Other on Query {{ three: patient(cpr: "{HANS}", override: $a) {{ cpr }} }}
    """
    sent = {"ground": "PATIENT_CONSENT", "reason": "Patienten sagde ja i dag"}
    other = {"ground": "NOT_CONTACTABLE", "reason": "Bevidstløs ved indlæggelse"}

    assert overrides(query, {"a": sent, "b": sent}) == {HANS: Override(OverrideGround.PATIENT_CONSENT, sent["reason"])}
    for a, b in ((sent, other), (other, sent)):
        (found,) = overrides(query, {"a": a, "b": b}).values()
        assert isinstance(found, BadOverride) and found.argument == "override"


def test_fields_outside_a_client_allow_list_are_denied_and_not_read_below() -> None:
    query = f'{{ patient(cpr: "{HANS}") {{ person {{ name }} diagnoses {{ nodes {{ code }} }} }} }}'
    allowed = {"Query.patient", "Patient.person", "Person.name"}
    read_ = reader(query, allowed=allowed.__contains__).read()

    assert read_.denied_fields == {"Patient.diagnoses"}
    assert read_.patients == {HANS: {DataCategory.PERSON}}


def test_the_walk_is_linear_each_fragment_once_per_patient_scope() -> None:
    levels = 16
    chain = " ".join(f"fragment F{n} on Patient {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels))
    query = f"""
    {{
      a: patient(cpr: "{HANS}") {{ ...F0 }} b: patient(cpr: "{KOL}") {{ ...F0 }} c: patient(cpr: "{HANS}") {{ ...F0 }}
    }}
    {chain} fragment F{levels} on Patient {{ person {{ name }} ...@include(if: true) {{ masterCard {{ phone }} }} }}
    """
    walk = reader(query)

    found = walk.patients()

    assert found == {p: {DataCategory.PERSON, DataCategory.MASTER_CARD} for p in (HANS, KOL)}
    selections = 3 * 2 + 2 * levels + 4  # the operation, the chain, the last fragment
    assert walk.visits <= 2 * selections  # two patient scopes; 2**16 paths are never followed
