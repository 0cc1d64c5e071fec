"""The committed schema.graphql is what the code generates, and everything in it is described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, build_schema

from gateway.schema import schema_sdl

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
