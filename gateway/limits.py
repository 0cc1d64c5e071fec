"""Bounded work per request: the document's tokens, operations, depth and aliases.

Every check here is linear in the size of the document, so a small request cannot make the gateway
work long (issue 9, ADR 0009):

- :func:`parse_document` parses with graphql-core's ``max_tokens`` (comments count too), so parsing
  stops after ``max_tokens`` tokens; graphql-core also refuses nesting deeper than 200;
- :func:`check_operations` refuses more than ``max_operations`` operations, and a document whose
  operation to run is not named (several operations and no ``operationName``, GraphQL spec
  §6.1 *GetOperation*) or not there;
- :func:`operation_limits_rule` makes one graphql-core validation rule for depth and aliases. It
  measures each operation once, each fragment once (:func:`measure`), never along every path as
  strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` do (those are exponential in
  fragments that spread the next one twice). The rule class is made once per schema, so
  strawberry's ``ValidationCache`` sees the same rules on every request and hits.

A refusal is a :class:`graphql.GraphQLError` whose ``original_error`` is :class:`LimitExceeded`
(code ``QUERY_TOO_COMPLEX``, with ``extensions.limit`` and ``extensions.maximum``) or
:class:`OperationNotSelected` (code ``BAD_REQUEST``); :mod:`gateway.errors` codes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    parse,
)
from strawberry.extensions import SchemaExtension

from resolvers.cost import MAX_REPRESENTATIONS

_PARSED_DOCUMENTS = 512
"""How many parsed documents are kept (the same text parses to the same object, so validation is cached too)."""
_COUNT_CAP = 1 << 31
"""Alias counts stop growing here: a fragment spread twice per level doubles them."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds on one request; each is a setting (``PATIENTOVERBLIK_MAX_*``)."""

    max_request_bytes: int = 65_536
    """Bytes of the HTTP body; more is HTTP 413 ``REQUEST_TOO_LARGE``."""
    max_tokens: int = 1_000
    """Lexical tokens of the document, comments included (graphql-armor's default)."""
    max_operations: int = 10
    """Operation definitions in one document."""
    max_depth: int = 12
    """Nesting of fields with selections (root fields are at depth 0; introspection is not counted)."""
    max_aliases: int = 30
    """Aliased fields in the operation, each fragment counted every time it is spread."""
    body_timeout_s: float = 10.0
    """Seconds the whole HTTP body may take to arrive; slower is HTTP 408 ``REQUEST_TIMEOUT``."""
    max_representations: int = MAX_REPRESENTATIONS
    """Federation representations in one operation, over every ``_entities`` field (:mod:`gateway.cost`)."""


class OverLimit(Exception):
    """A refusal for being over a limit: ``limit`` names it (camelCase: ``maxDepth``, ``requestsPerWindow``),
    ``maximum`` is its value; the message says both, in words."""

    def __init__(self, message: str, limit: str, maximum: int | float) -> None:
        super().__init__(message)
        self.limit = limit
        self.maximum = maximum

    def extensions(self) -> dict[str, object]:
        """The limit's fields in a refusal's ``extensions``: built here for every refusal over a limit, in
        a GraphQL result (:func:`gateway.errors.translate`) and before GraphQL runs (:mod:`gateway.request`)."""
        return {"limit": self.limit, "maximum": self.maximum}


class LimitExceeded(OverLimit):
    """A request is bigger than a limit allows: ``QUERY_TOO_COMPLEX`` (or, for its body, HTTP 413 and 408)."""


class TooManySubscriptions(LimitExceeded):
    """A connection or a caller already runs as many subscriptions as it may (ADR 0023)."""


class OperationNotSelected(Exception):
    """The request does not say which one operation of the document to run."""


def _refusal(message: str, limit: str, maximum: int, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, original_error=LimitExceeded(message, limit, maximum))


@lru_cache(maxsize=_PARSED_DOCUMENTS)
def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """The parsed document; a :class:`GraphQLError` for a syntax error or more than ``max_tokens`` tokens."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        if error.message.endswith(f"Document contains more than {max_tokens} tokens. Parsing aborted."):
            message = f"The document has more than {max_tokens} tokens."
            raise _refusal(message, "maxTokens", max_tokens) from None
        raise


def check_operations(document: DocumentNode, operation_name: str | None, max_operations: int) -> None:
    """Refuse too many operations, and a request that does not select exactly one of them."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > max_operations:
        message = f"The document has {len(operations)} operations; at most {max_operations} are allowed."
        raise _refusal(message, "maxOperations", max_operations)
    if operation_name is None:
        if len(operations) > 1:
            message = "The document has several operations: operationName must name the one to run."
            raise GraphQLError(message, original_error=OperationNotSelected(message))
        return
    if not any(o.name is not None and o.name.value == operation_name for o in operations):
        message = "The document has no operation named by operationName."
        raise GraphQLError(message, original_error=OperationNotSelected(message))


@dataclass(frozen=True, slots=True)
class Size:
    """How deep and how aliased a selection set is, fragments expanded."""

    depth: int = 0
    aliases: int = 0


@dataclass
class Measure:
    """Measures operations of one document; each selection is visited once, each fragment once."""

    fragments: dict[str, FragmentDefinitionNode]
    visits: int = 0
    """Selections looked at so far (the work done, for tests)."""
    _sizes: dict[str, Size] = field(default_factory=dict)
    _open: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, document: DocumentNode) -> Measure:
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        return cls(fragments)

    def selection_set(self, selection_set: SelectionSetNode | None) -> Size:
        """The size of ``selection_set``: the deepest field path and the aliases below, fragments expanded."""
        depth = aliases = 0
        for selection in selection_set.selections if selection_set is not None else ():
            self.visits += 1
            size = self._selection(selection)
            depth, aliases = max(depth, size.depth), min(aliases + size.aliases, _COUNT_CAP)
        return Size(depth, aliases)

    def _selection(self, selection: Any) -> Size:
        if isinstance(selection, FieldNode):
            below = self.selection_set(selection.selection_set)
            alias = 1 if selection.alias is not None else 0
            if selection.name.value.startswith("__") or not selection.selection_set:
                return Size(0, alias + below.aliases)  # introspection is not counted for depth, as strawberry
            return Size(1 + below.depth, alias + below.aliases)
        if isinstance(selection, InlineFragmentNode):
            return self.selection_set(selection.selection_set)
        if isinstance(selection, FragmentSpreadNode):
            return self.fragment(selection.name.value)
        return Size()

    def fragment(self, name: str) -> Size:
        """A fragment's size, measured the first time it is asked for (a cycle counts as nothing)."""
        known = self._sizes.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self._open:
            return Size()  # unknown or cyclic: graphql-core's own rules report it
        self._open.add(name)
        size = self.selection_set(definition.selection_set)
        self._open.discard(name)
        self._sizes[name] = size
        return size


def measure(document: DocumentNode) -> tuple[dict[OperationDefinitionNode, Size], Measure]:
    """Every operation's size, and the measure that found them (its ``visits`` count the work)."""
    walk = Measure.of(document)
    sizes = {
        d: walk.selection_set(d.selection_set) for d in document.definitions if isinstance(d, OperationDefinitionNode)
    }
    return sizes, walk


def operation_limits_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than ``max_depth`` or with more than ``max_aliases`` aliases."""

    class OperationLimits(ValidationRule):
        """Depth and aliases of every operation, measured once per document."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            sizes, _ = measure(context.document)
            for operation, size in sizes.items():
                name = f"Operation '{operation.name.value}'" if operation.name else "The operation"
                if size.depth > max_depth:
                    message = f"{name} is nested {size.depth} levels deep; at most {max_depth} levels are allowed."
                    context.report_error(_refusal(message, "maxDepth", max_depth, operation))
                if size.aliases > max_aliases:
                    message = f"{name} has {size.aliases} aliases; at most {max_aliases} are allowed."
                    context.report_error(_refusal(message, "maxAliases", max_aliases, operation))

    return OperationLimits


class DocumentLimits(SchemaExtension):
    """Parse within the token limit, check the operations, and add the depth and alias rule.

    ``rules`` must be made once per schema (:func:`operation_limits_rule`): the same objects on every
    request keep strawberry's validation cache hitting; ``replacing`` swaps graphql-core rules for
    versions of them (the same classes every time). It replaces strawberry's ``ParserCache``.
    """

    def __init__(
        self,
        *,
        limits: Limits,
        rules: tuple[type[ValidationRule], ...],
        replacing: Mapping[type[ASTValidationRule], type[ASTValidationRule]] | None = None,
    ) -> None:
        super().__init__()
        self._limits = limits
        self._rules = rules
        self._replacing = replacing or {}

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        rules = tuple(self._replacing.get(rule, rule) for rule in context.validation_rules)
        context.validation_rules = (*rules, *self._rules)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            document = parse_document(context.query, self._limits.max_tokens)
            check_operations(document, context.operation_name, self._limits.max_operations)
            context.graphql_document = document
        yield
