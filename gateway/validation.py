"""Which errors are about a value the caller sent, and a bound on graphql-core's field comparisons.

One rule for bad input (README, *Errors*): **a value the caller supplied that does not fit its type**
— in a variable, written in the document, or a required one left out — is ``BAD_USER_INPUT`` with
``extensions.argument`` naming where it went (``$c`` for a variable; ``from``, ``override.ground``,
``changes.relatives.0.phone`` for a literal), and ``locations`` pointing at it. **A document that is
not valid for the schema** (an unknown field, a missing selection, an unused or undefined variable, a
variable used where its type does not fit) is ``GRAPHQL_VALIDATION_FAILED``. graphql-core tells the
two apart only by message, so the gateway marks the value errors where they are made:

- :class:`ValuesFitTheirTypes` and :class:`RequiredArgumentsGiven` replace graphql-core's
  ``ValuesOfCorrectTypeRule`` and ``ProvidedRequiredArgumentsRule``: same checks, each error carrying
  an :class:`~gateway.input_errors.InputValueError` naming the argument, and its location even when a
  scalar's own error had none;
- :func:`variable_errors` makes the errors of variable coercion (graphql-core's ``Executor.build``).

Neither passes graphql-core's message of a value on: it repeats the value, which may be a CPR number
or a name. Their messages are built from the schema by :mod:`gateway.input_errors`.

:class:`BoundedFieldMerging` replaces ``OverlappingFieldsCanBeMergedRule`` with a budget of
:data:`MAX_FIELD_COMPARISONS` instead of graphql-core's 500,000, so a document of same-named fields
costs a few milliseconds at most; over the budget it is ``QUERY_TOO_COMPLEX`` with
``extensions.limit = "maxFieldComparisons"`` (ADR 0009).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    ArgumentNode,
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    OverlappingFieldsCanBeMergedRule,
    ProvidedRequiredArgumentsRule,
    Undefined,
    ValueNode,
    ValuesOfCorrectTypeRule,
    VariableDefinitionNode,
    get_operation_ast,
    is_input_type,
    type_from_ast,
)
from graphql.language import SKIP, VisitorAction
from graphql.utilities.validate_input_value import validate_input_value
from graphql.validation.validate import ValidationAbortedError

from gateway.input_errors import InputValueError, Place, distinct, input_error, literal_errors
from gateway.limits import LimitExceeded

MAX_FIELD_COMPARISONS = 50_000
"""graphql-core's overlapping-fields budget for one document (its own is 500,000): 1 KB of same-named
fields spends under 16,000, the web page's documents none."""
_VALUE_FREE_BUILD_ERRORS = ("Too many errors processing variables", "Must provide")
"""graphql-core's messages of ``Executor.build`` that hold no value (the gateway selects the operation
itself, so only the first can reach a client)."""
_REQUIRED = re.compile(r"\((\w+):\)'|argument '(\w+)'")


def _marked(error: GraphQLError, argument: str, node: Any = None) -> GraphQLError:
    """``error`` (whose message holds no value) as an input error naming ``argument``, located at ``node``
    when it had no location."""
    return GraphQLError(
        error.message,
        error.nodes or node,
        error.source,
        error.positions,
        original_error=InputValueError(error.message, argument),
    )


class ValuesFitTheirTypes(ValuesOfCorrectTypeRule):
    """graphql-core's check of literal values (arguments, input fields, variable defaults), its errors
    input errors naming the argument and the path into it (``override.ground``), their messages built
    from the schema (:mod:`gateway.input_errors`), never from the value."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._argument: str | None = None

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self._argument = node.name.value

    def leave_argument(self, *_args: Any) -> None:
        self._argument = None

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        self._argument = f"${node.variable.name.value}"

    def leave_variable_definition(self, *_args: Any) -> None:
        self._argument = None

    def is_valid_value_node(self, node: ValueNode, input_type: GraphQLInputType | None) -> VisitorAction:
        if input_type:
            argument = self._argument or "value"
            for error in literal_errors(argument, node, input_type, node, None, self.context.hide_suggestions):
                self.report_error(error)
        return SKIP


class RequiredArgumentsGiven(ProvidedRequiredArgumentsRule):
    """graphql-core's check that required arguments are given, its errors marked as input errors."""

    def report_error(self, error: GraphQLError) -> None:
        found = _REQUIRED.search(error.message)
        argument = next((group for group in found.groups() if group), "value") if found else "value"
        super().report_error(_marked(error, argument))


class BoundedFieldMerging(OverlappingFieldsCanBeMergedRule):
    """graphql-core's same-named field check, within :data:`MAX_FIELD_COMPARISONS`; over it, one
    ``QUERY_TOO_COMPLEX`` error and no further comparisons."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MAX_FIELD_COMPARISONS
        self._aborted = False

    def enter_selection_set(self, *args: Any) -> None:
        if self._aborted:
            return
        try:
            super().enter_selection_set(*args)
        except ValidationAbortedError:
            self._aborted = True
            self.report_error(comparisons_exceeded())


def too_many_comparisons() -> LimitExceeded:
    """The limit a document is over when its same-named fields need more comparisons than allowed."""
    message = f"The document needs more than {MAX_FIELD_COMPARISONS} field comparisons to validate."
    return LimitExceeded(message, "maxFieldComparisons", MAX_FIELD_COMPARISONS)


def comparisons_exceeded() -> GraphQLError:
    """The error for a document whose same-named fields need more comparisons than allowed."""
    limit = too_many_comparisons()
    return GraphQLError(str(limit), original_error=limit)


REPLACED_RULES: Mapping[type[ASTValidationRule], type[ASTValidationRule]] = {
    ValuesOfCorrectTypeRule: ValuesFitTheirTypes,
    ProvidedRequiredArgumentsRule: RequiredArgumentsGiven,
    OverlappingFieldsCanBeMergedRule: BoundedFieldMerging,
}
"""graphql-core's rules and the gateway's versions of them (the same classes on every request, so
strawberry's validation cache keeps hitting)."""


def variable_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw_variables: Mapping[str, Any] | None,
    errors: Sequence[GraphQLError],
) -> list[GraphQLError]:
    """The errors of variable coercion (graphql-core's ``Executor.build``), each an input error naming its
    variable (``$c``) and the path into it (``$changes.relatives.0.phone``).

    graphql-core's messages repeat the value; these are made again from the variables themselves with
    graphql-core's own check (``validate_input_value``), their messages from the schema. An error that is
    not about a variable's value (graphql-core giving up after too many) keeps its own, value-free message.
    """
    operation = get_operation_ast(document, operation_name)
    raw = raw_variables or {}
    made: list[GraphQLError] = []
    for definition in (operation.variable_definitions or ()) if operation is not None else ():
        expected = type_from_ast(schema, definition.type)
        name = f"${definition.variable.name.value}"
        value = raw.get(definition.variable.name.value, Undefined)
        if not is_input_type(expected) or (value is Undefined and definition.default_value is not None):
            continue
        input_type: GraphQLInputType = expected

        def on_error(
            error: GraphQLError,
            path: Sequence[str | int],
            place: str = name,
            expected: GraphQLInputType = input_type,
            value: Any = value,
            node: VariableDefinitionNode = definition,
        ) -> None:
            made.append(input_error(Place(place, tuple(path)), expected, value, error, node))

        validate_input_value(value, input_type, on_error)
    kept = [e for e in errors if e.message.startswith(_VALUE_FREE_BUILD_ERRORS)]
    if not made and len(kept) < len(errors):
        message = "A variable's value does not fit its type."
        made.append(GraphQLError(message, original_error=InputValueError(message, "variables")))
    return [*distinct(made), *kept]
