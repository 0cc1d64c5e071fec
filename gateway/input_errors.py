"""What is wrong with a value the caller sent, told by where it went and the type expected there, never by the value.

graphql-core's and strawberry's messages repeat the value they refuse ("Int cannot represent non 32-bit
signed integer value: 3011851412", "… Found: {'firstName': 'Inge', 'cpr': '1709683160'}."), in
variables and literals, at any depth. A value may be a CPR number or a name (non-negotiable 5), so
the gateway passes none of those messages on. It takes from graphql-core only *where* a value failed
(the variable or argument, and the path into it, which holds schema names and list indexes only) and
builds the message from the schema: the type expected there and which part of the value's shape does
not fit it (missing, null, not a list item or object, a required field left out, a field the type
does not have, not one of an enum's values) or a scalar's own reason, when the scalar raised
:class:`~resolvers.errors.ValueRefused` (whose message never holds the value).

The message names the place (``Variable '$c' at 'relatives.0'``, ``Argument 'override.ground'``) and
``extensions.argument`` repeats it (``$c.relatives.0``, ``override.ground``). Lists of an input type's
fields or an enum's values are a *hint*, shown only to callers who may explore the schema
(:mod:`gateway.explore`), as graphql-core's "Did you mean" is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    ListValueNode,
    Node,
    NullValueNode,
    ObjectValueNode,
    Undefined,
    ValueNode,
    VariableNode,
    is_required_input_field,
)
from graphql.execution import VariableValues
from graphql.utilities.validate_input_value import validate_input_literal

from resolvers.errors import ValueRefused

BUILT_IN_SCALARS = {
    "Int": "a 32-bit whole number, -2^31 to 2^31 - 1",
    "Float": "a finite number",
    "String": "text",
    "Boolean": "true or false",
    "ID": "text or a whole number",
}
"""What each of GraphQL's own scalars takes, in the words of its messages."""


class InputValueError(Exception):
    """A value the caller supplied does not fit its type; ``argument`` names where it went.

    ``hint`` lists schema names that help fix it (an input type's fields, an enum's values); it is
    shown to callers who may explore the schema only."""

    def __init__(self, message: str, argument: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value went: a variable (``$c``) or an argument (``changes``), and the path into it."""

    name: str
    path: Sequence[str | int] = ()

    @property
    def argument(self) -> str:
        """The place as ``extensions.argument`` gives it: ``$c.relatives.0``, ``override.ground``."""
        return ".".join(str(part) for part in (self.name, *self.path))

    def label(self) -> str:
        kind = "Variable" if self.name.startswith("$") else "Argument"
        inside = f" at '{'.'.join(str(part) for part in self.path)}'" if self.path else ""
        return f"{kind} '{self.name}'{inside}"


@dataclass(frozen=True, slots=True)
class Misfit:
    """What does not fit, in schema words only."""

    problem: str
    hint: str | None = None


def misfit(expected: GraphQLInputType, found: Any, cause: BaseException | None = None) -> Misfit:
    """What is wrong with ``found`` as a value of ``expected``: a JSON value from variables, a literal's
    value node, or ``Undefined`` when nothing was given. ``cause`` is graphql-core's error there, read
    only for a scalar's :class:`~resolvers.errors.ValueRefused`."""
    if isinstance(expected, GraphQLNonNull):
        if found is Undefined:
            return Misfit(f"a value of type {expected} is required")
        if found is None or isinstance(found, NullValueNode):
            return Misfit(f"expected {expected}, not null")
        if isinstance(found, VariableNode):
            return Misfit(f"expected {expected}; the variable ${found.name.value} gives no value")
        return misfit(expected.of_type, found, cause)
    if isinstance(expected, GraphQLList):
        return misfit(expected.of_type, found, cause)  # a single value stands for a list of one
    if isinstance(expected, GraphQLInputObjectType):
        return _object_misfit(expected, found)
    if isinstance(expected, GraphQLEnumType):
        return Misfit(f"expected {expected.name}, one of its values", f"Its values: {', '.join(expected.values)}.")
    return Misfit(f"expected {expected.name}, {_scalar_reason(expected.name, cause)}")


def _object_misfit(expected: GraphQLInputObjectType, found: Any) -> Misfit:
    fields = f"Its fields: {', '.join(expected.fields)}."
    if isinstance(found, ObjectValueNode):
        given = [field.name.value for field in found.fields]
    elif isinstance(found, dict):
        given = [str(name) for name in found]
    else:
        return Misfit(f"expected {expected.name}, an input object", fields)
    unknown = sum(name not in expected.fields for name in given)
    missing = [n for n, f in expected.fields.items() if is_required_input_field(f) and n not in given]
    problems = []
    if missing:
        problems.append(f"{expected.name} needs {', '.join(missing)}")
    if unknown:
        problems.append(f"{expected.name} has no field by {'a name' if unknown == 1 else f'{unknown} names'} sent")
    if expected.is_one_of:
        problems.append(f"{expected.name} takes exactly one field, and not null")
    return Misfit("; ".join(problems) or f"expected {expected.name}", fields)


def _scalar_reason(name: str, cause: BaseException | None) -> str:
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ValueRefused):
            return str(cause)
        seen.add(id(cause))
        cause = getattr(cause, "original_error", None) or cause.__cause__
    return BUILT_IN_SCALARS.get(name, f"a valid {name}")


def found_at(expected: GraphQLInputType, found: Any, path: Sequence[str | int]) -> tuple[GraphQLInputType, Any]:
    """The type expected and the value found at ``path`` inside ``found`` (a JSON value or a literal).

    graphql-core's paths name input fields and list indexes; a value that is not a list where a list
    is expected stands for a list of one and takes no index (GraphQL spec §3.11, *Input Coercion*)."""
    for step in path:
        expected = _nullable(expected)
        while isinstance(expected, GraphQLList) and not (isinstance(step, int) and _is_list(found)):
            expected = _nullable(expected.of_type)
        if isinstance(step, int) and isinstance(expected, GraphQLList):
            items = found.values if isinstance(found, ListValueNode) else found
            found = items[step] if 0 <= step < len(items) else Undefined
            expected = expected.of_type
        elif isinstance(step, str) and isinstance(expected, GraphQLInputObjectType) and step in expected.fields:
            found = _field(found, step)
            expected = expected.fields[step].type
        else:
            return expected, Undefined  # a path graphql-core did not make: say what was expected
    return expected, found


def _nullable(type_: GraphQLInputType) -> GraphQLInputType:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _is_list(found: Any) -> bool:
    return isinstance(found, ListValueNode | list | tuple)


def _field(found: Any, name: str) -> Any:
    if isinstance(found, ObjectValueNode):
        return next((field.value for field in found.fields if field.name.value == name), Undefined)
    if isinstance(found, dict):
        return found.get(name, Undefined)
    return Undefined


def input_error(
    place: Place, expected: GraphQLInputType, found: Any, cause: GraphQLError | None, nodes: Node | Sequence[Node]
) -> GraphQLError:
    """The client's error for a value at ``place`` (a path into ``found``) that does not fit: located at
    ``nodes``, coded ``BAD_USER_INPUT`` with ``extensions.argument``, its message built from the schema."""
    here, value = found_at(expected, found, place.path)
    what = misfit(here, value, cause)
    message = f"{place.label()}: {what.problem}."
    return GraphQLError(message, nodes, original_error=InputValueError(message, place.argument, what.hint))


def literal_errors(
    name: str,
    literal: ValueNode,
    expected: GraphQLInputType,
    located: Node,
    variables: VariableValues | None = None,
    hide_suggestions: bool = False,
) -> list[GraphQLError]:
    """The errors of a value written in the document for argument (or variable default) ``name``, checked
    by graphql-core's ``validate_input_literal`` (with the request's ``variables`` once they are known)."""
    found: list[GraphQLError] = []

    def on_error(error: GraphQLError, path: Sequence[str | int]) -> None:
        found.append(input_error(Place(name, tuple(path)), expected, literal, error, error.nodes or located))

    validate_input_literal(literal, expected, on_error, variables, None, hide_suggestions)
    return distinct(found)


def distinct(errors: Sequence[GraphQLError]) -> list[GraphQLError]:
    """``errors`` without repeats: graphql-core reports each missing and unknown field of one object
    separately, and the gateway's message for that object names them all."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for error in errors:
        argument = getattr(error.original_error, "argument", "")
        if (key := (error.message, argument)) not in seen:
            seen.add(key)
            kept.append(error)
    return kept
