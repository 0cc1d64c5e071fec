"""Schema explorers: introspection and "Did you mean" suggestions, for those allowed to explore.

The OWASP GraphQL cheat sheet advises turning both off in production for callers who have no need:
introspection hands out the whole schema, and suggestions leak it one field name at a time. The
policy is ``PATIENTOVERBLIK_INTROSPECTION`` (:class:`gateway.clients.Introspection`): ``open`` in the
demo, ``developers`` by default (only tokens of clients registered with ``developer: true``).

For a caller who may not explore, :class:`SchemaExplorers` adds graphql-core's
``NoSchemaIntrospectionCustomRule`` to the request's validation (``__schema`` and ``__type`` are
``GRAPHQL_VALIDATION_FAILED``; ``__typename`` stays), and :class:`NoServiceSdlRule`: Federation's
``_service { sdl }`` hands out the whole schema too (ADR 0022). :func:`without_suggestions` removes
every "Did you mean …?" from the messages (``gateway.errors.translate``). The rule objects are the same
on every request, so strawberry's validation cache keeps hitting (it keys on the rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final, Protocol

from graphql import FieldNode, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationRule
from strawberry.extensions import SchemaExtension

_SUGGESTION: Final = re.compile(r"\s*Did you mean [^?]*\?", re.DOTALL)


class ExplorerContext(Protocol):
    """The request context as this module sees it."""

    explorer: bool


def without_suggestions(message: str) -> str:
    """``message`` with every "Did you mean …?" removed."""
    return _SUGGESTION.sub("", message)


SERVICE_FIELD: Final = "_service"
"""Apollo Federation's field giving the subgraph's SDL, on the query type."""


class NoServiceSdlRule(ValidationRule):
    """Refuse Federation's ``_service`` field (the schema's SDL), as introspection is refused."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        parent = self.context.get_parent_type()
        if node.name.value == SERVICE_FIELD and parent is not None and parent is self.context.schema.query_type:
            message = "The schema's SDL (`_service`) is for those who may introspect the schema."
            self.report_error(GraphQLError(message, node))


class SchemaExplorers(SchemaExtension):
    """Refuse introspection and the Federation SDL to callers who may not explore the schema."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if not getattr(context.context, "explorer", False):
            rules = (NoSchemaIntrospectionCustomRule, NoServiceSdlRule)
            context.validation_rules = (*context.validation_rules, *rules)
        yield
