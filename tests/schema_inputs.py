"""Every place the schema takes a value, found by walking the built schema, with valid values for each.

Shared by the tests of the two kinds of bad input (``tests/e2e/test_error_echo_http.py``: no message
repeats a value; ``tests/e2e/test_argument_bounds_http.py``: a value out of bounds runs nothing). Nothing
here names a field or argument of the schema: a new argument, input field or bound, or a renamed field,
is covered without listing it. What the walk cannot make up is a table checked against the schema:
a valid example of each ``@constraint`` format (:data:`FORMAT_EXAMPLES`) and of each input type with a
rule across its fields (:data:`INPUT_EXAMPLES`); a test fails when the schema has one the table lacks.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_composite_type,
)

from gateway.schema import build_schema
from resolvers.bounds import Constraint, DateRange, EveryDay
from sources.payloads import COPENHAGEN

SCHEMA = build_schema()._schema
HANS = "1403723705"
ROOTS = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type, "subscription": SCHEMA.subscription_type}

FORMAT_EXAMPLES: dict[str, list[str]] = {
    "phone": ["61234567"],
    "bcp47": ["da"],
    "line": ["Testvej 1"],
    "postal-code": ["6700"],
    "municipality-code": ["0461"],
    "sor": ["378651000016004"],
    "authorization-id": ["CBDJ6"],
    "block-id": ["blok-1"],
    "version": ["1"],
    "cursor": [],  # no argument takes only a cursor: every ``after`` may be left out
}
"""Candidates for a valid value of each ``@constraint(format:)``; the first the format accepts is used."""


def today() -> date:
    return datetime.now(COPENHAGEN).date()


def input_examples() -> dict[str, dict[str, Any]]:
    """A valid value of each input type with a rule across its fields (``refusals``), as variables send it."""
    day = today().isoformat()
    return {
        "BlockInput": {"kind": "DATA_PERIOD", "dataPeriod": {"start": day, "end": day}},
        "MasterCardChanges": {"dentist": "Tandlæge Test"},
    }


INPUT_EXAMPLES = input_examples()


def definition(holder: Any) -> Any:
    return (getattr(holder, "extensions", None) or {}).get("strawberry-definition")


def declared(holder: Any, kind: type) -> list[Any]:
    """The schema directives of ``kind`` on a field, argument, input field or input type."""
    return [d for d in getattr(definition(holder), "directives", None) or () if isinstance(d, kind)]


def has_rule(type_: GraphQLInputObjectType) -> bool:
    """Whether the input type has a rule across its fields (:class:`resolvers.bounds.InputRule`)."""
    return callable(getattr(getattr(definition(type_), "origin", None), "refusals", None))


# --- reaching a field from the root ----------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """How an operation reaches a field: its kind and the fields from the root to it, each as (type, field)."""

    operation: str
    steps: tuple[tuple[GraphQLObjectType, str], ...]

    @property
    def field(self) -> GraphQLField:
        parent, name = self.steps[-1]
        field: GraphQLField = parent.fields[name]
        return field

    @property
    def coordinate(self) -> str:
        parent, name = self.steps[-1]
        return f"{parent.name}.{name}"

    def __repr__(self) -> str:
        return f"<{self.operation} reaching {self.coordinate}>"


def reaches() -> dict[str, Reach]:
    """The shortest way from a root to every field of every object type, by coordinate."""
    found: dict[str, Reach] = {}
    for operation, root in ROOTS.items():
        if root is None:
            continue
        pending: deque[tuple[GraphQLObjectType, tuple[tuple[GraphQLObjectType, str], ...]]] = deque([(root, ())])
        seen = {root.name}
        while pending:
            parent, steps = pending.popleft()
            for name, field in parent.fields.items():
                here = (*steps, (parent, name))
                found.setdefault(f"{parent.name}.{name}", Reach(operation, here))
                below = get_named_type(field.type)
                if isinstance(below, GraphQLObjectType) and below.name not in seen:
                    seen.add(below.name)
                    pending.append((below, here))
    return found


def document(reach: Reach, given: Mapping[int, Mapping[str, str]], variables: Mapping[str, str]) -> str:
    """An operation selecting ``reach``'s field: ``given`` holds argument texts (a literal or ``$name``) by
    step; every other required argument on the way gets a valid example."""
    text = "{ __typename }" if is_composite_type(get_named_type(reach.field.type)) else ""
    for index in reversed(range(len(reach.steps))):
        parent, name = reach.steps[index]
        field = parent.fields[name]
        arguments = dict(given.get(index, {}))
        for argument_name, argument in field.args.items():
            if argument_name not in arguments and isinstance(argument.type, GraphQLNonNull):
                arguments[argument_name] = literal(example(argument.type, argument))
        listed = ", ".join(f"{k}: {v}" for k, v in arguments.items())
        text = f"{name}{f'({listed})' if listed else ''} {text}".strip()
        text = f"{{ {text} }}"
    declared_variables = ", ".join(f"${k}: {v}" for k, v in variables.items())
    return f"{reach.operation} Q{f'({declared_variables})' if declared_variables else ''} {text}"


def literal(value: Any) -> str:
    """``value`` (as variables send it) written in the document; enum values are sent as :class:`Name`."""
    if isinstance(value, Name):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class Name(str):
    """An enum value: a string in variables, a bare name in the document."""

    __slots__ = ()


def as_variable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: as_variable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_variable(v) for v in value]
    return str(value) if isinstance(value, Name) else value


# --- valid values ------------------------------------------------------------------------------------


def example(type_: GraphQLInputType, holder: GraphQLArgument | GraphQLInputField | None = None) -> Any:
    """A valid value of ``type_`` for ``holder`` (its bounds kept), as variables send it (enums as :class:`Name`)."""
    if isinstance(type_, GraphQLNonNull):
        return example(type_.of_type, holder)
    if isinstance(type_, GraphQLList):
        return [example(type_.of_type, holder)]
    if isinstance(type_, GraphQLInputObjectType):
        if type_.name in INPUT_EXAMPLES:
            return _names(type_, copy.deepcopy(INPUT_EXAMPLES[type_.name]))
        return {n: example(f.type, f) for n, f in type_.fields.items() if isinstance(f.type, GraphQLNonNull)}
    if isinstance(type_, GraphQLEnumType):
        return Name(next(iter(type_.values)))
    assert isinstance(type_, GraphQLScalarType)
    bound = next(iter(declared(holder, Constraint)), None)
    form = bound.checked_format if bound is not None else None
    if form is not None:
        return next(c for c in FORMAT_EXAMPLES[form.name] if form.accepts(c))
    minimum = bound.min if bound is not None and isinstance(bound.min, int) else 1
    return {
        "CPR": HANS,
        "Date": today().isoformat(),
        "DateTime": datetime.now(UTC).isoformat(),
        "Boolean": False,
        "Int": minimum,
        "Float": 1.5,
    }.get(type_.name, "Test")


def _names(type_: GraphQLInputObjectType, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with its enum values marked as names (the tables write them as strings)."""
    for name, field in type_.fields.items():
        inner = get_named_type(field.type)
        if name in value and isinstance(inner, GraphQLEnumType):
            value[name] = Name(value[name])
        elif name in value and isinstance(inner, GraphQLInputObjectType) and isinstance(value[name], dict):
            value[name] = _names(inner, value[name])
    return value


# --- positions -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """One place a value goes: an argument of a field, and the path of input fields (and list items) inside it."""

    reach: Reach
    argument: str
    path: tuple[str | int, ...]
    holder: GraphQLArgument | GraphQLInputField
    type: GraphQLInputType

    def __repr__(self) -> str:
        return f"<{self.reach.coordinate}({self.name}: {self.type})>"

    @property
    def argument_type(self) -> GraphQLInputType:
        return self.reach.field.args[self.argument].type

    @property
    def name(self) -> str:
        """As ``extensions.argument`` names it: ``changes.relatives.0.phone``."""
        return ".".join(str(p) for p in (self.argument, *self.path))

    def base(self) -> Any:
        """A valid value of the argument, with every input object on the way to the position present."""
        return opened(example(self.argument_type, self.reach.field.args[self.argument]), self.argument_type, self.path)

    def planted(self, value: Any) -> Any:
        """The argument's value with ``value`` at the position."""
        if not self.path:
            return value
        whole = self.base()
        parent = whole
        for step in self.path[:-1]:
            parent = parent[step]
        parent[self.path[-1]] = value
        return whole


def opened(value: Any, type_: GraphQLInputType, path: tuple[str | int, ...]) -> Any:
    """``value`` with the input objects and list items along ``path`` present (valid examples where missing)."""
    if not path:
        return value
    if isinstance(type_, GraphQLNonNull):
        return opened(value, type_.of_type, path)
    step, rest = path[0], path[1:]
    if isinstance(type_, GraphQLList):
        items = value if isinstance(value, list) and value else [example(type_.of_type)]
        items[0] = opened(items[0], type_.of_type, rest)
        return items
    assert isinstance(type_, GraphQLInputObjectType) and isinstance(step, str)
    field = type_.fields[step]
    found = value.get(step) if isinstance(value, dict) else None
    value[step] = opened(found if found is not None else example(field.type, field), field.type, rest)
    return value


def positions() -> Iterator[Position]:
    """Every argument of every field reachable from a root, and every input field inside each, at any depth
    (a list's items at index 0; an input type inside itself once)."""
    for reach in reaches().values():
        for name, argument in reach.field.args.items():
            yield Position(reach, name, (), argument, argument.type)
            yield from _inside(reach, name, (), argument.type, frozenset())


def _inside(
    reach: Reach, argument: str, path: tuple[str | int, ...], type_: GraphQLInputType, seen: frozenset[str]
) -> Iterator[Position]:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            path = (*path, 0)
        type_ = type_.of_type
    if not isinstance(type_, GraphQLInputObjectType) or type_.name in seen:
        return
    for name, field in type_.fields.items():
        yield Position(reach, argument, (*path, name), field, field.type)
        yield from _inside(reach, argument, (*path, name), field.type, seen | {type_.name})


def range_fields() -> Iterator[tuple[Reach, DateRange]]:
    """Every field with a ``@dateRange`` on its arguments."""
    for reach in reaches().values():
        for rule in declared(reach.field, DateRange):
            yield reach, rule


def every_day_fields() -> Iterator[tuple[Reach, EveryDay]]:
    """Every field with an ``@everyDay`` bound (its enclosing range is on a field on the way to it)."""
    for reach in reaches().values():
        for rule in declared(reach.field, EveryDay):
            yield reach, rule
