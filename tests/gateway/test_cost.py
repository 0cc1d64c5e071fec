"""Static cost (IBM GraphQL Cost Directives): what operations cost, that every list is sized, bounded work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLList, GraphQLObjectType, get_named_type, get_nullable_type, is_leaf_type

from auth.operation import PreparedOperation, prepare_operation
from gateway.cost import DEFAULT_LIST_SIZE, _directive, estimate
from gateway.limits import parse_document
from gateway.rate_limit import Budget
from gateway.schema import build_schema
from gateway.web import OPERATIONS_DIR
from resolvers.cost import LIST_SIZES, WEIGHTS, ListSize
from tests.gateway.documents import HANS, WORST_CASES, selections

SCHEMA = build_schema()._schema


def prepared(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> PreparedOperation:
    found = prepare_operation(SCHEMA, parse_document(query, 10_000), name, variables or {})
    assert isinstance(found, PreparedOperation), found
    return found


def cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return estimate(SCHEMA, prepared(query, variables, name)).cost


def test_every_list_of_objects_has_a_list_size_and_every_table_entry_a_field() -> None:
    """The table sizes every list, but a connection's `nodes`, sized once for every connection (resolvers/paging.py)."""
    unsized = [
        f"{name}.{field_name}"
        for name, named in SCHEMA.type_map.items()
        if isinstance(named, GraphQLObjectType) and not name.startswith("__")
        for field_name, field in named.fields.items()
        if isinstance(get_nullable_type(field.type), GraphQLList)
        and not is_leaf_type(get_named_type(field.type))
        and f"{name}.{field_name}" not in LIST_SIZES
        and not isinstance(_directive(field, ListSize), ListSize)
    ]
    assert unsized == []
    assert DEFAULT_LIST_SIZE > 0
    for coordinate in {*WEIGHTS, *LIST_SIZES}:
        type_name, _, field_name = coordinate.partition(".")
        named = SCHEMA.type_map[type_name]
        assert isinstance(named, GraphQLObjectType) and field_name in named.fields, coordinate


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ __typename }", 0),
        ("{ me { kind name } }", 1),
        (f'{{ patient(cpr: "{HANS}") {{ cpr }} }}', 3),
        (f'{{ patient(cpr: "{HANS}") {{ person {{ name }} }} }}', 4),
        # accessLog weighs 2, its page 10 entries of weight 1; the patient 3
        (f'{{ patient(cpr: "{HANS}") {{ accessLog(first: 10) {{ nodes {{ id }} }} }} }}', 15),
        # a slicing argument counts at most the page maximum (100): larger is the field's own BAD_USER_INPUT
        (f'{{ patient(cpr: "{HANS}") {{ accessLog(first: 5000) {{ nodes {{ id }} }} }} }}', 105),
        # the argument's default (20) when it is not given
        (f'{{ patient(cpr: "{HANS}") {{ accessLog {{ nodes {{ id }} pageInfo {{ hasNextPage }} }} }} }}', 26),
        # every connection the same way: plans 4, its page of 5 plans x (1 + organisation 1)
        (
            f'{{ patient(cpr: "{HANS}") {{ plans(first: 5) {{ nodes {{ organisation {{ name }} }} totalCount }} }} }}',
            17,
        ),
        # doctors: the practice 2, the page 1 and its 20 doctors (the default) x 1
        (f'{{ patient(cpr: "{HANS}") {{ generalPractitioner {{ doctors {{ nodes {{ name }} }} }} }} }}', 26),
        # 14 weeks x (1 + 7 days x (1 + 3 appointments x 1)), + appointments 10, + patient 3
        (
            f'{{ patient(cpr: "{HANS}") {{ appointments {{ weeks {{ days {{ appointments {{ id }} }} }} }} }} }}',
            14 * (1 + 7 * (1 + 3)) + 10 + 3,
        ),
        ('mutation { revokeBlock(cpr: "1403723705", id: "b") }', 10),
        (f'{{ patient(cpr: "{HANS}") {{ person @skip(if: true) {{ name }} }} }}', 3),
    ],
)
def test_what_operations_cost(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_aliases_and_fragments_count_every_time_they_are_selected() -> None:
    one = cost(f'{{ patient(cpr: "{HANS}") {{ person {{ name }} }} }}')
    fragment = "fragment P on Patient { person { name } }"
    twice = cost(f'{{ a: patient(cpr: "{HANS}") {{ ...P }} b: patient(cpr: "{HANS}") {{ ...P }} }} {fragment}')

    assert twice == 2 * one


@pytest.mark.parametrize("name", ["fragment fan-out", "fragment fan-out in a patient", "aliased fan-out"])
def test_costing_a_fragment_fan_out_visits_each_selection_once(name: str) -> None:
    document = parse_document(WORST_CASES[name], 10_000)
    found = prepare_operation(SCHEMA, document, None, {})
    assert isinstance(found, PreparedOperation)

    result = estimate(SCHEMA, found)

    assert result.visits <= selections(document)
    if name == "fragment fan-out in a patient":
        assert result.cost > Budget().max_cost  # 2**16 persons: refused before anything runs


def test_the_web_pages_operations_cost_well_under_the_default_budget() -> None:
    variables: dict[str, dict[str, Any]] = {
        "AccessLog": {"cpr": HANS, "first": 100},
        "Appointments": {
            "cpr": HANS,
            "from": "2026-01-01",
            "to": "2026-03-31",
            "day": True,
            "week": True,
            "list": True,
            "first": 100,
        },
        "Overview": {"cpr": HANS, "citizen": True},
    }
    costs = {}
    for path in sorted(Path(OPERATIONS_DIR).glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        if text.lstrip("# \n").startswith("mutation") or "\nmutation " in text:
            continue
        costs[path.stem] = cost(text, variables.get(path.stem, {"cpr": HANS}), path.stem)

    assert max(costs.values()) <= Budget().max_cost, costs


ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { person { name } } } }"


@pytest.mark.parametrize("count", [0, 1, 7, 30])
def test_entities_cost_as_many_patients_as_representations_given(count: int) -> None:
    """Whatever a representation holds: the gate, not the cost, tells a patient from a bad one."""
    representations = [{"__typename": "Patient", "id": f"key-{n}"} for n in range(count)]
    found = estimate(SCHEMA, prepared(ENTITIES, {"r": representations}))

    assert found.cost == count * cost(f'{{ patient(cpr: "{HANS}") {{ person {{ name }} }} }}')
    assert found.representations == count


def test_representations_are_counted_over_every_entities_field_of_the_operation() -> None:
    query = """
    query($r: [_Any!]!, $s: [_Any!]!) {
      a: _entities(representations: $r) { __typename } b: _entities(representations: $s) { __typename } ...F
    }
    fragment F on Query { c: _entities(representations: [{__typename: "Patient", id: "k"}]) { __typename } }
    """
    found = estimate(SCHEMA, prepared(query, {"r": [{}] * 4, "s": [{}] * 5}))

    assert found.representations == 4 + 5 + 1
