"""The committed schema.graphql is what the code generates, and everything in it is described."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from gateway.schema import schema_sdl, sdl_schema
from resolvers.vocabulary import (
    AccessActivity,
    AccessorKind,
    AccessOutcome,
    ActorKind,
    DataCategory,
    OverrideGround,
    graphql_enum,
)

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_graphql_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_sdl(), (
        "schema.graphql is stale: run `make schema` and review the diff"
    )


def test_every_type_and_field_has_a_description() -> None:
    schema = sdl_schema(schema_sdl())
    missing = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Boolean", "Int", "Float", "ID"}:
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInputObjectType):
            missing += [f"{name}.{field}" for field, spec in named.fields.items() if not spec.description]
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{value}" for value, spec in named.values.items() if not spec.description]
    assert missing == []


def test_the_shared_vocabulary_is_exposed_as_the_very_python_enums_with_their_schema_names() -> None:
    schema = sdl_schema(schema_sdl())
    for enum, name in (
        (ActorKind, "CallerKind"),
        (AccessorKind, "AccessorKind"),
        (AccessActivity, "AccessActivity"),
        (AccessOutcome, "AccessOutcome"),
        (OverrideGround, "OverrideGround"),
        (DataCategory, "DataCategory"),
    ):
        graphql = schema.type_map[name]
        assert isinstance(graphql, GraphQLEnumType)
        assert set(graphql.values) == {member.name for member in enum}, name


def test_a_graphql_enum_must_describe_every_member() -> None:
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(TypeError, match="BLUE"):
        graphql_enum(Colour, name="Colour", description="A colour.", values={Colour.RED: "Red."})


def test_the_schema_describes_every_limit_with_the_codes_default() -> None:
    """The limits text on `Query` names each default as the code has it, so the two cannot drift."""
    from gateway.limits import Limits
    from gateway.settings import Settings
    from resolvers import appointments, paging
    from resolvers.errors import EARLIEST_DATE, LATEST_DATE
    from resolvers.query import LIMITS_TEXT

    limits, budget = Limits(), Settings().default_budget()
    expected = [
        f"{limits.max_request_bytes} bytes",
        f"comments included: {limits.max_tokens} ",
        f"operations in the document: {limits.max_operations} ",
        f"with selections: {limits.max_depth} ",
        f"where spread: {limits.max_aliases} ",
        f"{budget.max_cost} per operation",
        f"{budget.requests} requests and {budget.cost} points of cost per {budget.window_s} s",
        f"`first` 1 to {paging.MAX_PAGE} on every connection (default {paging.DEFAULT_PAGE})",
        f"{EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}",
        f"at most {appointments.MAX_SPAN_DAYS} days",
        f"for at most {appointments.MAX_EMPTY_DAYS}",
        f"`_entities`: {limits.max_representations} an operation",
    ]
    assert [text for text in expected if text not in LIMITS_TEXT] == []
    for code in ("REQUEST_TOO_LARGE", "QUERY_TOO_COMPLEX", "RATE_LIMITED", "BAD_USER_INPUT"):
        assert code in LIMITS_TEXT
    query = sdl_schema(schema_sdl()).query_type
    assert query is not None and LIMITS_TEXT in (query.description or "")
