"""Every argument's bounds, checked before anything is decided or fetched, on the operation as executed.

A resolver that checked its own argument ran after its parent had fetched: Hans's
``appointments { list(first: 0) }`` asked every appointment source and recorded the appointments as
returned before ``first`` was refused. Here, before the consent gate, :class:`ArgumentBounds` reads the
operation execution will run (graphql-core's selected operation and coerced variables, defaults,
``@skip``/``@include``: :func:`auth.operation.prepare_operation`) and checks every argument of every
selected field, at any depth of its input objects and lists, against the bounds the schema declares
beside it (:mod:`resolvers.bounds`: ``@constraint``, ``@dateRange``, ``@everyDay``, an input type's
own rule). A value out of bounds refuses the whole request: ``BAD_USER_INPUT`` naming the argument
and the path into it (``extensions.argument``: ``first``, ``changes.relatives.2.phone``), located at
the argument, before anything is decided, fetched or recorded (one rule for bad input, ADR 0009).

An argument graphql-core cannot coerce once the variables are known (a literal whose variable has no
value) is refused here too, its message built from the schema (:mod:`gateway.input_errors`).

The walk is linear in the document for each date range the operation names: a fragment is walked once
per enclosing range it is spread under (an ``@everyDay`` bound reads it), however many times it is
spread; two fields of one name need an alias, so an operation names at most ``max_aliases`` + 1 ranges
per patient.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    Node,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
)
from graphql.execution.values import get_directive_values
from strawberry.extensions import SchemaExtension

from auth.operation import PreparedOperation, prepare_operation
from gateway.input_errors import InputValueError, Place, literal_errors
from resolvers.bounds import Constraint, DateRange, EveryDay, Refusal
from sources.payloads import COPENHAGEN

MAX_REFUSALS: Final = 50
"""The walk stops after this many refusals (graphql-core's own limit on variable errors)."""
Window = tuple[date | None, date | None]


class ArgumentsRefused(Exception):
    """A request with arguments out of bounds; ``errors`` holds one coded error for each."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


def today() -> date:
    """Today's date in Denmark, the day bounds such as "not in the past" are judged on."""
    return datetime.now(COPENHAGEN).date()


def _definition(holder: Any) -> Any:
    return (getattr(holder, "extensions", None) or {}).get("strawberry-definition")


def _declared(holder: Any, kind: type) -> list[Any]:
    """The schema directives of ``kind`` on a field, argument, input field or input type."""
    return [d for d in getattr(_definition(holder), "directives", None) or () if isinstance(d, kind)]


@dataclass
class ArgumentWalk:
    """One walk over a prepared operation, collecting refusals; ``visits`` counts the selections looked at."""

    schema: GraphQLSchema
    prepared: PreparedOperation
    today: date
    errors: list[GraphQLError] = field(default_factory=list)
    visits: int = 0
    _walked: set[tuple[str, Window | None]] = field(default_factory=set)

    @property
    def ranges(self) -> int:
        """How many distinct date ranges fragments were walked under (each fragment once per range)."""
        return len({window for _, window in self._walked if window is not None})

    def run(self) -> list[GraphQLError]:
        """Walk the operation; its refusals (at most :data:`MAX_REFUSALS`)."""
        root = self.schema.get_root_type(self.prepared.operation.operation)
        if root is not None:
            self.selection_set(root, self.prepared.operation.selection_set, None)
        return self.errors[:MAX_REFUSALS]

    def selection_set(
        self, parent: GraphQLNamedType, selections: SelectionSetNode | None, window: Window | None
    ) -> None:
        for selection in selections.selections if selections is not None else ():
            self.visits += 1
            if len(self.errors) >= MAX_REFUSALS or not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                self._field(parent, selection, window)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selection_set(target or parent, selection.selection_set, window)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.prepared.fragments.get(selection.name.value)
                key = (selection.name.value, window)
                if fragment is None or key in self._walked:
                    continue
                self._walked.add(key)
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.selection_set(target, fragment.selection_set, window)

    def _field(self, parent: GraphQLNamedType, node: FieldNode, window: Window | None) -> None:
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else None
        )
        if definition is None:
            return  # __typename, or introspection: no bounds
        try:
            values = get_argument_values(definition, node, self.prepared.variables)
        except GraphQLError:
            self._uncoerced(definition, node)
            return  # execution would refuse the field; nothing below it runs
        where = f"{parent.name}.{node.name.value}"
        for name, argument in definition.args.items():
            if name in values:
                self._value(values[name], argument.type, argument, Place(name), where, self._at(node, name))
        for rule in _declared(definition, DateRange):
            self._refused(rule.refusals(values, self.today), Place(""), where, node)
            window = rule.window(values.get(rule.start) if rule.start else None, values.get(rule.end), self.today)
        for every in _declared(definition, EveryDay):
            self._refused(every.refusals(values, window), Place(""), where, node)
        self.selection_set(get_named_type(definition.type), node.selection_set, window)

    def _value(
        self,
        value: Any,
        type_: GraphQLInputType,
        holder: GraphQLArgument | GraphQLInputField | None,
        place: Place,
        where: str,
        node: Node,
    ) -> None:
        """Check ``value`` of ``type_`` at ``place``: the bounds of the argument or input field holding it,
        the rules of its input type, and every field and item inside it."""
        for bound in _declared(holder, Constraint):
            self._refused(bound.refusals(value), place, where, node)
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if value is None:
            return
        if isinstance(type_, GraphQLList):
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                self._value(item, type_.of_type, None, _below(place, index), where, node)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, Mapping):
            for rule in _declared(type_, DateRange):
                self._refused(rule.refusals(value, self.today), place, where, node)
            own_rule = getattr(getattr(_definition(type_), "origin", None), "refusals", None)
            if callable(own_rule):
                self._refused(own_rule(value, self.today), place, where, node)
            for name, input_field in type_.fields.items():
                if name in value:
                    self._value(value[name], input_field.type, input_field, _below(place, name), where, node)

    def _refused(self, refusals: Iterator[Refusal], place: Place, where: str, node: Node) -> None:
        """An error for each refusal of a bound on the value at ``place`` (``Place("")``: the field's own
        arguments, the refusal naming which)."""
        for refusal in refusals:
            path = (*place.path, *refusal.path)
            at = Place(place.name, path) if place.name or not path else Place(str(path[0]), path[1:])
            message = f"{at.label()} of {where} {refusal.problem}."
            self.errors.append(GraphQLError(message, node, original_error=InputValueError(message, at.argument)))

    def _uncoerced(self, definition: GraphQLField, node: FieldNode) -> None:
        """Errors for the arguments graphql-core cannot coerce with the request's variables, from the schema."""
        before = len(self.errors)
        for argument_node in node.arguments or ():
            argument = definition.args.get(argument_node.name.value)
            if argument is not None:
                name, literal = argument_node.name.value, argument_node.value
                self.errors += literal_errors(name, literal, argument.type, argument_node, self.prepared.variables)
        if len(self.errors) == before:  # a required argument left out: the document's validation says which
            message = f"The arguments of {node.name.value} do not fit their types."
            self.errors.append(GraphQLError(message, node, original_error=InputValueError(message, node.name.value)))

    @staticmethod
    def _at(node: FieldNode, name: str) -> Node:
        return next((a for a in node.arguments or () if a.name.value == name), node)

    def _included(self, node: Any) -> bool:
        for directive, skip_when in ((GraphQLSkipDirective, True), (GraphQLIncludeDirective, False)):
            try:
                values = get_directive_values(directive, node, self.prepared.variables)
            except GraphQLError:
                return False  # execution refuses it too
            if values is not None and values.get("if") is skip_when:
                return False
        return True


def _below(place: Place, step: str | int) -> Place:
    return Place(place.name, (*place.path, step))


def refused_arguments(schema: GraphQLSchema, prepared: PreparedOperation, on: date) -> list[GraphQLError]:
    """Every argument of the prepared operation outside its declared bounds, as coded errors (at most
    :data:`MAX_REFUSALS`)."""
    return ArgumentWalk(schema, prepared, on).run()


class ArgumentBounds(SchemaExtension):
    """Refuse a request whose arguments are out of bounds, before the cost guard and the consent gate run."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if execution.graphql_document is not None:
            schema = execution.schema._schema
            prepared = prepare_operation(
                schema, execution.graphql_document, execution.operation_name, execution.variables
            )
            if isinstance(prepared, PreparedOperation) and (errors := refused_arguments(schema, prepared, today())):
                raise GraphQLError(errors[0].message, original_error=ArgumentsRefused(errors))
        yield


def refusals_of(error: GraphQLError) -> list[GraphQLError]:
    """The errors a refusal of arguments stands for (one per argument out of bounds), else ``[error]``."""
    original = error.original_error
    return original.errors if isinstance(original, ArgumentsRefused) else [error]
