"""The schema's protected details, read from the built schema as the consent gate reads ``@category``.

Shared by the schema-walking tests (``tests/resolvers/test_protected_fields.py``) and the end-to-end
ones: which types and fields carry ``@protectedDetail``, a query that reaches every protected field
under ``Patient`` (generated from the schema, so a new field is queried without listing it), and
the values an answer holds at each protected field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLField, GraphQLNamedType, GraphQLObjectType, get_named_type
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from gateway.schema import build_schema
from resolvers.protection import ProtectedDetailDirective

SCHEMA = build_schema()._schema

ARGUMENTS = {
    "Patient.appointments": '(from: "{first}", to: "{last}", filter: {{includeCancelled: true}})',
    "Appointments.list": "(first: 100)",
    "Patient.accessLog": "(first: 100)",
}
"""Arguments the generated query passes (``first`` and ``last``: the appointments' date range)."""


def strawberry_type(named: GraphQLNamedType) -> StrawberryObjectDefinition | None:
    definition = (named.extensions or {}).get("strawberry-definition")
    return definition if isinstance(definition, StrawberryObjectDefinition) else None


def strawberry_field(field: GraphQLField) -> StrawberryField:
    definition = (field.extensions or {}).get("strawberry-definition")
    assert isinstance(definition, StrawberryField)
    return definition


def _declared(directives: Any) -> ProtectedDetailDirective | None:
    found = [d for d in directives or () if isinstance(d, ProtectedDetailDirective)]
    return found[0] if found else None


def type_declaration(named: GraphQLNamedType) -> ProtectedDetailDirective | None:
    """The ``@protectedDetail`` a type carries."""
    definition = strawberry_type(named)
    return _declared(definition.directives) if definition is not None else None


def field_declaration(field: GraphQLField) -> ProtectedDetailDirective | None:
    """The ``@protectedDetail`` a field carries."""
    return _declared(strawberry_field(field).directives)


def object_types() -> list[GraphQLObjectType]:
    return [t for name, t in SCHEMA.type_map.items() if isinstance(t, GraphQLObjectType) and not name.startswith("__")]


def protected_types() -> list[GraphQLObjectType]:
    return [t for t in object_types() if type_declaration(t) is not None]


def _object(name: str) -> GraphQLObjectType:
    found = SCHEMA.type_map[name]
    assert isinstance(found, GraphQLObjectType)
    return found


def protected_coordinates() -> list[str]:
    """``Type.field`` of every protected field reachable under ``Patient`` (sub-goals not repeated)."""
    return sorted(_coordinates(_object("Patient"), frozenset()))


def _coordinates(owner: GraphQLObjectType, seen: frozenset[str]) -> set[str]:
    found: set[str] = set()
    for name, field in owner.fields.items():
        named = get_named_type(field.type)
        if field_declaration(field) is not None:
            found.add(f"{owner.name}.{name}")
        elif isinstance(named, GraphQLObjectType) and named.name not in seen:
            found |= _coordinates(named, seen | {owner.name})
    return found


def protected_query(only: str | None = None, *, first: str, last: str) -> str:
    """A query for ``$cpr`` selecting every protected field under ``Patient`` (or only ``only``), whole.

    Appointments are asked from ``first`` to ``last``, cancelled ones included.
    """
    selection = _selection(_object("Patient"), frozenset(), only, first, last)
    assert selection, f"{only} is not a protected field under Patient"
    return f"query($cpr: CPR!) {{ patient(cpr: $cpr) {{ {selection} }} }}"


def _arguments(coordinate: str, first: str, last: str) -> str:
    return ARGUMENTS.get(coordinate, "").format(first=first, last=last)


def _selection(owner: GraphQLObjectType, seen: frozenset[str], only: str | None, first: str, last: str) -> str:
    parts = []
    for name, field in owner.fields.items():
        coordinate = f"{owner.name}.{name}"
        named = get_named_type(field.type)
        arguments = _arguments(coordinate, first, last)
        if field_declaration(field) is not None:
            if only is None or only == coordinate:
                parts.append(f"{name}{arguments}{_whole(named, frozenset())}")
        elif isinstance(named, GraphQLObjectType) and named.name not in seen:
            inner = _selection(named, seen | {owner.name}, only, first, last)
            if inner:
                parts.append(f"{name}{arguments} {{ {inner} }}")
    return " ".join(parts)


def _whole(named: GraphQLNamedType, seen: frozenset[str]) -> str:
    """Every field of ``named``, nested types whole (each type once on a path); empty for a leaf."""
    if not isinstance(named, GraphQLObjectType):
        return ""
    inner = [
        f"{name}{_whole(get_named_type(field.type), seen | {named.name})}"
        for name, field in named.fields.items()
        if get_named_type(field.type).name not in seen | {named.name}
    ]
    return " { " + " ".join(inner) + " }"


def values_at(answer: Mapping[str, Any], owner: str = "Patient") -> Iterator[tuple[str, Any]]:
    """(``Type.field``, value) of every protected field in ``answer``, an object of type ``owner``."""
    definition = _object(owner)
    for name, value in answer.items():
        field = definition.fields[name]
        named = get_named_type(field.type)
        if field_declaration(field) is not None:
            yield f"{owner}.{name}", value
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Mapping) and isinstance(named, GraphQLObjectType):
                yield from values_at(item, named.name)


def texts(value: Any) -> set[str]:
    """Every text inside an answer's value."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(texts(v) for v in value)) if value else set()
    return set()
