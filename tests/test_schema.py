"""The committed schema.graphql is what the code generates, and everything in it is described."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, build_schema

from gateway.schema import schema_sdl
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
    schema = build_schema(schema_sdl())
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
    schema = build_schema(schema_sdl())
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
