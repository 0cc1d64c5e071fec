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
from sources.patient_keys import PatientKeys
from tests.entry_points import BOTH, EntryPoint, through

HANS = "1403723705"
KOL = "2309510372"
SCHEMA = build_schema()._schema
KEYS = PatientKeys.generate()


def reader(
    query: str,
    variables: dict[str, Any] | None = None,
    operation: str | None = None,
    allowed: Any = None,
    *,
    entry_point: EntryPoint = EntryPoint.PATIENT,
) -> OperationReader:
    query, variables = through(entry_point, query, variables, KEYS)
    prepared = prepare_operation(SCHEMA, parse(query), operation, variables)
    assert isinstance(prepared, PreparedOperation), prepared
    return OperationReader(SCHEMA, prepared, allowed, KEYS)


def read(
    query: str,
    variables: dict[str, Any] | None = None,
    operation: str | None = None,
    *,
    entry_point: EntryPoint = EntryPoint.PATIENT,
) -> PatientCategories:
    return reader(query, variables, operation, entry_point=entry_point).patients()


@BOTH
def test_categories_are_read_through_nested_fields(entry_point: EntryPoint) -> None:
    found = read(
        f'{{ patient(cpr: "{HANS}") {{ person {{ name }} masterCard {{ registrations {{ organDonor }} }} }} }}',
        entry_point=entry_point,
    )

    assert found == {HANS: {DataCategory.PERSON, DataCategory.MASTER_CARD, DataCategory.REGISTERS}}


@BOTH
def test_fragments_and_inline_fragments_are_followed(entry_point: EntryPoint) -> None:
    query = f"""
    query {{ patient(cpr: "{HANS}") {{ ...Card ... on Patient {{ generalPractitioner {{ name }} }} }} }}
    fragment Card on Patient {{ masterCard {{ phone }} }}
    """
    assert read(query, entry_point=entry_point) == {HANS: {DataCategory.MASTER_CARD, DataCategory.GP}}


@BOTH
def test_recursive_fragments_do_not_loop(entry_point: EntryPoint) -> None:
    query = f"""
    query {{ patient(cpr: "{HANS}") {{ ...A }} }}
    fragment A on Patient {{ person {{ name }} ...B }}
    fragment B on Patient {{ ...A }}
    """
    assert read(query, entry_point=entry_point) == {HANS: {DataCategory.PERSON}}


@BOTH
@pytest.mark.parametrize(
    ("directive", "variables", "expected"),
    [
        ("@skip(if: true)", {}, set()),
        ("@skip(if: false)", {}, {DataCategory.PERSON}),
        ("@include(if: $on)", {"on": False}, set()),
        ("@include(if: $on)", {"on": True}, {DataCategory.PERSON}),
    ],
)
def test_skip_and_include_are_honoured(
    directive: str, variables: dict[str, Any], expected: set[DataCategory], entry_point: EntryPoint
) -> None:
    query = f'query($on: Boolean = true) {{ patient(cpr: "{HANS}") {{ person {directive} {{ name }} }} }}'
    assert read(query, variables, entry_point=entry_point) == {HANS: expected}


@BOTH
def test_aliases_of_the_same_patient_are_one_patient_and_variables_name_patients(entry_point: EntryPoint) -> None:
    query = """
    query($a: CPR!, $b: CPR!) {
      one: patient(cpr: $a) { person { name } }
      two: patient(cpr: $a) { masterCard { phone } }
      three: patient(cpr: $b) { generalPractitioner { name } }
    }
    """
    found = read(query, {"a": HANS, "b": KOL}, entry_point=entry_point)

    assert found == {HANS: {DataCategory.PERSON, DataCategory.MASTER_CARD}, KOL: {DataCategory.GP}}


@BOTH
def test_variable_defaults_are_read_as_execution_coerces_them(entry_point: EntryPoint) -> None:
    query = f"""
    query Q($c: CPR! = "{HANS}", $on: Boolean = false) {{
      patient(cpr: $c) {{ person {{ name }} ...@include(if: $on) {{ masterCard {{ phone }} }} }}
    }}
    """

    assert read(query, entry_point=entry_point) == {HANS: {DataCategory.PERSON}}
    assert read(query, {"c": KOL, "on": True}, entry_point=entry_point) == {
        KOL: {DataCategory.PERSON, DataCategory.MASTER_CARD}
    }


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


@BOTH
def test_only_the_named_operation_is_read(entry_point: EntryPoint) -> None:
    query = f"""
    query A {{ patient(cpr: "{HANS}") {{ person {{ name }} }} }}
    query B {{ patient(cpr: "{KOL}") {{ masterCard {{ phone }} }} }}
    """
    assert read(query, operation="B", entry_point=entry_point) == {KOL: {DataCategory.MASTER_CARD}}


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


@BOTH
def test_fields_outside_a_client_allow_list_are_denied_and_not_read_below(entry_point: EntryPoint) -> None:
    query = f'{{ patient(cpr: "{HANS}") {{ person {{ name }} diagnoses {{ nodes {{ code }} }} }} }}'
    allowed = {"Query.patient", "Query._entities", "Patient.person", "Person.name"}
    read_ = reader(query, allowed=allowed.__contains__, entry_point=entry_point).read()

    assert read_.denied_fields == {"Patient.diagnoses"}
    assert read_.patients == {HANS: {DataCategory.PERSON}}


@BOTH
def test_the_walk_is_linear_each_fragment_once_per_patient_scope(entry_point: EntryPoint) -> None:
    levels = 16
    chain = " ".join(f"fragment F{n} on Patient {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels))
    query = f"""
    {{
      a: patient(cpr: "{HANS}") {{ ...F0 }} b: patient(cpr: "{KOL}") {{ ...F0 }} c: patient(cpr: "{HANS}") {{ ...F0 }}
    }}
    {chain} fragment F{levels} on Patient {{ person {{ name }} ...@include(if: true) {{ masterCard {{ phone }} }} }}
    """
    walk = reader(query, entry_point=entry_point)

    found = walk.patients()

    assert found == {p: {DataCategory.PERSON, DataCategory.MASTER_CARD} for p in (HANS, KOL)}
    selections = 3 * 2 + 2 * levels + 4  # the operation, the chain, the last fragment
    assert walk.visits <= 2 * selections  # two patient scopes; 2**16 paths are never followed


ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { person { name } } } }"


def patient(cpr: str, keys: PatientKeys = KEYS) -> dict[str, str]:
    return {"__typename": "Patient", "id": keys.key_of(cpr)}


def test_each_representation_of_entities_is_a_patient_and_a_repeated_one_is_one_patient() -> None:
    found = reader(ENTITIES, {"r": [patient(HANS), patient(KOL), patient(HANS)]}).read()

    assert found.patients == {HANS: {DataCategory.PERSON}, KOL: {DataCategory.PERSON}}
    assert found.invalid_keys == 0


def test_representations_that_name_no_patient_are_left_out_and_keys_that_do_not_open_are_counted() -> None:
    other_deployment = PatientKeys.generate()
    altered = patient(HANS)["id"][:-2] + ("AA" if not patient(HANS)["id"].endswith("AA") else "BB")
    sent: list[object] = [
        patient(HANS, other_deployment),  # another deployment's key
        {"__typename": "Patient", "id": altered},
        {"__typename": "Patient", "id": HANS},  # a CPR number is not a key
        {"__typename": "Person", "id": patient(KOL)["id"]},  # not an entity type here
        {"__typename": "Patient", "id": patient(KOL)["id"], "cpr": KOL},  # more than the key
        "Patient",
        patient(KOL),
    ]

    found = reader(ENTITIES, {"r": sent}).read()

    assert found.patients == {KOL: {DataCategory.PERSON}}
    assert found.invalid_keys == 3


def test_without_the_deployments_keys_no_representation_names_a_patient() -> None:
    prepared = prepare_operation(SCHEMA, parse(ENTITIES), None, {"r": [patient(HANS)]})
    assert isinstance(prepared, PreparedOperation)

    assert OperationReader(SCHEMA, prepared).read().patients == {}


def test_entities_outside_a_client_allow_list_name_their_patients_as_refused() -> None:
    found = reader(ENTITIES, {"r": [patient(HANS)]}, allowed={"Query.patient"}.__contains__).read()

    assert found.denied_fields == {"Query._entities"}
    assert found.patients == {} and found.refused_patients == {HANS}
