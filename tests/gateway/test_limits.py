"""The document limits: linear walks (counted, never timed), strawberry's depth and alias semantics, coded refusals."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, GraphQLError, OperationDefinitionNode, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions.max_aliases import count_fields_with_alias
from strawberry.extensions.query_depth_limiter import determine_depth

from gateway.limits import LimitExceeded, OperationNotSelected, check_operations, measure, parse_document
from gateway.schema import build_schema
from tests.gateway.documents import fan_out, selections

SCHEMA = build_schema()._schema


@pytest.mark.parametrize("levels", [4, 8, 18, 40])
def test_a_fragment_spread_twice_per_level_is_measured_once(levels: int) -> None:
    document = parse(fan_out(levels, leaf="a: __typename"))

    sizes, walk = measure(document)

    (size,) = sizes.values()
    assert walk.visits <= selections(document)  # each selection once, not once per path (2**levels)
    assert size.aliases == min(2**levels, 1 << 31)  # counted where spread, as execution would expand it


def test_depth_is_measured_through_fragments_once() -> None:
    nested = "fragment P on Patient { a: person { name } b: person { ...N } } fragment N on Person { name }"
    document = parse(f'{{ patient(cpr: "1403723705") {{ ...P ...P }} }} {nested}')

    sizes, walk = measure(document)
    (size,) = sizes.values()

    assert (size.depth, size.aliases) == (2, 4)
    assert walk.visits <= selections(document)


def test_a_cycle_of_fragments_is_walked_once_and_left_to_graphql_core() -> None:
    document = parse("{ ...A } fragment A on Query { ...B me { kind } } fragment B on Query { ...A }")

    sizes, walk = measure(document)
    (size,) = sizes.values()

    assert size.depth == 1 and walk.visits <= selections(document)
    assert [e.message for e in validate(SCHEMA, document)] == ["Cannot spread fragment 'A' within itself via 'B'."]


FIELDS = ["name", "status", "__typename"]
OBJECTS = ["person", "masterCard", "generalPractitioner"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Small acyclic documents with aliases, inline fragments and fragments spread more than once."""
    fragments: list[str] = []

    def selection(depth: int) -> str:
        kind = draw(st.sampled_from(["leaf", "object", "inline", "spread"] if depth < 3 else ["leaf"]))
        alias = draw(st.sampled_from(["", "", "x: ", "y: "]))
        if kind == "leaf":
            return alias + "__typename"
        if kind == "object":
            return f"{alias}{draw(st.sampled_from(OBJECTS))} {{ __typename }}"
        inner = " ".join(selection(depth + 1) for _ in range(draw(st.integers(1, 3))))
        if kind == "inline":
            return f"... on Patient {{ {inner} }}"
        fragments.append(f"fragment F{len(fragments)} on Patient {{ {inner} }}")
        return f"...F{len(fragments) - 1} " * draw(st.integers(1, 2))

    body = " ".join(selection(0) for _ in range(draw(st.integers(1, 4))))
    return f'{{ patient(cpr: "1403723705") {{ {body} }} }} ' + " ".join(fragments)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_depth_and_aliases_are_what_strawberrys_limiters_count(text: str) -> None:
    document = parse(text)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    context: Any = type("Context", (), {"report_error": lambda *_: None})()

    (size,) = measure(document)[0].values()

    assert size.depth == determine_depth(operation, fragments, 0, 99, context, "q", None)
    assert size.aliases == count_fields_with_alias(operation, fragments)


def test_the_token_limit_stops_parsing_with_a_coded_refusal() -> None:
    with pytest.raises(GraphQLError) as raised:
        parse_document("{ " + "__typename " * 200 + "}", 100)

    refusal = raised.value.original_error
    assert isinstance(refusal, LimitExceeded) and (refusal.limit, refusal.maximum) == ("maxTokens", 100)


def test_a_syntax_error_is_not_a_limit() -> None:
    with pytest.raises(GraphQLError) as raised:
        parse_document("{ me { ", 100)

    assert raised.value.original_error is None


@pytest.mark.parametrize(
    ("text", "name", "refusal"),
    [
        (" ".join(f"query Q{n} {{ __typename }}" for n in range(11)), "Q1", LimitExceeded),
        ("query A { __typename } query B { __typename }", None, OperationNotSelected),
        ("query A { __typename } query B { __typename }", "C", OperationNotSelected),
        ("{ __typename }", "A", OperationNotSelected),
    ],
)
def test_a_request_runs_exactly_one_named_operation(text: str, name: str | None, refusal: type[Exception]) -> None:
    with pytest.raises(GraphQLError) as raised:
        check_operations(parse(text), name, 10)

    assert isinstance(raised.value.original_error, refusal)


@pytest.mark.parametrize(
    ("text", "name"),
    [("{ __typename }", None), ("query A { __typename }", None), ("query A { a } query B { b }", "B")],
)
def test_one_operation_or_a_named_one_is_selected(text: str, name: str | None) -> None:
    check_operations(parse(text), name, 10)
