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
  an :class:`InputValueError` naming the argument, and its location even when a scalar's own error
  had none;
- :func:`variable_errors` marks the errors of variable coercion (graphql-core's ``Executor.build``).

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
    GraphQLError,
    GraphQLInputType,
    OverlappingFieldsCanBeMergedRule,
    ProvidedRequiredArgumentsRule,
    ValueNode,
    ValuesOfCorrectTypeRule,
    VariableDefinitionNode,
)
from graphql.language import SKIP, VisitorAction
from graphql.utilities.validate_input_value import validate_input_literal
from graphql.validation.validate import ValidationAbortedError

from gateway.limits import LimitExceeded

MAX_FIELD_COMPARISONS = 50_000
"""graphql-core's overlapping-fields budget for one document (its own is 500,000): 1 KB of same-named
fields spends under 16,000, the web page's documents none."""
_VARIABLE = re.compile(r"Variable '\$(\w+)'(?: has invalid value at ((?:\.\w+|\[\d+\])+):)?")
_REQUIRED = re.compile(r"\((\w+):\)'|argument '(\w+)'")


class InputValueError(Exception):
    """A value the caller supplied does not fit its type; ``argument`` names where it went."""

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


def _marked(error: GraphQLError, argument: str, node: Any = None) -> GraphQLError:
    """``error`` as an input error naming ``argument``, located at ``node`` when it had no location."""
    return GraphQLError(
        error.message,
        error.nodes or node,
        error.source,
        error.positions,
        original_error=InputValueError(error.message, argument),
    )


class ValuesFitTheirTypes(ValuesOfCorrectTypeRule):
    """graphql-core's check of literal values (arguments, input fields, variable defaults), its errors
    marked as input errors naming the argument and the path into it (``override.ground``)."""

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

            def on_error(error: GraphQLError, path: Sequence[str | int]) -> None:
                named = ".".join(str(part) for part in (argument, *path))
                self.report_error(_marked(error, named, node))

            validate_input_literal(node, input_type, on_error, None, None, self.context.hide_suggestions)
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


def variable_errors(errors: Sequence[GraphQLError]) -> list[GraphQLError]:
    """The errors of variable coercion, each marked as an input error naming its variable (``$c``),
    and the path into it when the value was an input object or list (``$changes.relatives.0.phone``)."""
    marked = []
    for error in errors:
        found = _VARIABLE.match(error.message)
        if found is None:
            marked.append(error)
            continue
        path = re.sub(r"\[(\d+)\]", r".\1", found.group(2) or "")
        marked.append(_marked(error, f"${found.group(1)}{path}"))
    return marked
