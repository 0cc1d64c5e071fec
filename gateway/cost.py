"""Static cost analysis (IBM GraphQL Cost Directives) and the per-client cost budget, before anything runs.

:func:`estimate` reads an operation as execution will run it (the selected operation, coerced
variables, ``@skip``/``@include``, fragments) against the schema's ``@cost`` and ``@listSize``
(:mod:`resolvers.cost`):

- a field weighs its ``@cost``, else its type's, else 1 for an object and 0 for a scalar or enum;
  a root mutation field 10;
- a list field's size is the largest slicing argument given (or its default), at most the page maximum
  (the sized child list's ``assumedSize``), else ``assumedSize``, else :data:`DEFAULT_LIST_SIZE`; with
  ``sizedFields`` the size multiplies those child fields instead;
- a list field costs ``size * (weight + cost of its selection)``, any other ``weight + cost of its
  selection``; the operation costs the sum over its root fields;
- Federation's ``_entities`` is as long as the representations it is given (ADR 0022).

Each fragment is costed once per sizing context, so the walk is linear in the document; totals stop
growing at 2³¹. :class:`CostGuard` runs before the consent gate: an operation with more
representations than ``max_representations`` over all its ``_entities`` fields, or over the caller's
``max_cost``, is ``QUERY_TOO_COMPLEX`` (``extensions.limit``: ``"maxRepresentations"`` or
``"maxCost"``, and ``maximum``), and one that does not fit the caller's cost window is
``RATE_LIMITED``; in each case nothing is decided or fetched.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from math import ceil
from typing import Any, Final, Protocol
from weakref import WeakKeyDictionary

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.values import get_directive_values
from strawberry.extensions import SchemaExtension

from auth.operation import ENTITIES_FIELD, PreparedOperation, prepare_operation
from gateway.limits import LimitExceeded, Limits
from gateway.rate_limit import Budget, RateLimiter, Window
from resolvers.cost import COST_DIRECTIVE, LIST_SIZE_DIRECTIVE, Cost, ListSize

DEFAULT_LIST_SIZE: Final = 10
"""The size of a list field without ``@listSize`` (every list of objects in the schema has one; a test checks)."""
MUTATION_WEIGHT: Final = Decimal(10)
_CAP: Final = Decimal(1 << 31)


def _directive(holder: Any, kind: type) -> Any:
    definition = (getattr(holder, "extensions", None) or {}).get("strawberry-definition")
    return next((d for d in getattr(definition, "directives", None) or () if isinstance(d, kind)), None)


def field_weight(field: GraphQLField, mutation_root: bool) -> Decimal:
    """The field's ``@cost``, else its type's, else the spec's default."""
    for holder in (field, get_named_type(field.type)):
        cost: Cost | None = _directive(holder, Cost)
        if cost is not None:
            try:
                return Decimal(cost.weight)
            except InvalidOperation:
                raise ValueError(f"@cost weight {cost.weight!r} is not a decimal") from None
    if mutation_root:
        return MUTATION_WEIGHT
    return Decimal(0) if is_leaf_type(get_named_type(field.type)) else Decimal(1)


@dataclass
class _Walk:
    schema: GraphQLSchema
    prepared: PreparedOperation
    visits: int = 0
    representations: int = 0
    """Federation representations given to ``_entities`` fields (each field as written, once)."""
    _fragments: dict[tuple[str, str, tuple[str, ...], Decimal], Decimal] = field(default_factory=dict)

    def selection_set(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        sized: Mapping[str, Decimal],
        mutation_root: bool = False,
    ) -> Decimal:
        total = Decimal(0)
        for selection in selection_set.selections if selection_set is not None else ():
            self.visits += 1
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field(parent, selection, sized, mutation_root)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(target or parent, selection.selection_set, sized, mutation_root)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(parent, selection.name.value, sized, mutation_root)
            total = min(total, _CAP)
        return total

    def _fragment(self, parent: GraphQLNamedType, name: str, sized: Mapping[str, Decimal], root: bool) -> Decimal:
        key = (name, parent.name, tuple(sorted(sized)), max(sized.values(), default=Decimal(0)))
        if key in self._fragments:
            return self._fragments[key]
        self._fragments[key] = Decimal(0)  # a cycle costs nothing more (validation refuses it anyway)
        fragment = self.prepared.fragments.get(name)
        target = self.schema.get_type(fragment.type_condition.name.value) if fragment else None
        cost = self.selection_set(target or parent, fragment.selection_set if fragment else None, sized, root)
        self._fragments[key] = cost
        return cost

    def _field(self, parent: GraphQLNamedType, node: FieldNode, sized: Mapping[str, Decimal], root: bool) -> Decimal:
        if not isinstance(parent, GraphQLObjectType) or node.name.value not in parent.fields:
            return Decimal(0)  # __typename, introspection: free
        definition = parent.fields[node.name.value]
        weight = field_weight(definition, root)
        size, sized_below = self._size(definition, node)
        if f"{parent.name}.{node.name.value}" == ENTITIES_FIELD:
            size = self._representations(definition, node)
        if node.name.value in sized:
            size = sized[node.name.value]
        below = self.selection_set(get_named_type(definition.type), node.selection_set, sized_below)
        if isinstance(get_nullable_type(definition.type), GraphQLList) or node.name.value in sized:
            return min(size * (weight + below), _CAP)
        return min(weight + below, _CAP)

    def _representations(self, definition: GraphQLField, node: FieldNode) -> Decimal:
        """How many representations this ``_entities`` field is given (as execution coerces them)."""
        try:
            given = get_argument_values(definition, node, self.prepared.variables).get("representations")
        except GraphQLError:
            given = None  # execution refuses the field: it resolves nothing
        count = len(given) if isinstance(given, list) else 0
        self.representations += count
        return Decimal(count)

    def _size(self, definition: GraphQLField, node: FieldNode) -> tuple[Decimal, dict[str, Decimal]]:
        """This field's list size, and the sizes it gives to its sized child fields."""
        spec: ListSize | None = _directive(definition, ListSize)
        if spec is None:
            return Decimal(DEFAULT_LIST_SIZE), {}
        size: Decimal | None = None
        if isinstance(spec.slicing_arguments, list) and spec.slicing_arguments:
            try:
                arguments = get_argument_values(definition, node, self.prepared.variables)
            except GraphQLError:
                arguments = {}
            given = [v for a in spec.slicing_arguments if isinstance(v := arguments.get(a), int) and v >= 0]
            size = Decimal(min(max(given), _page_maximum(definition, spec))) if given else None
        if size is None:
            size = Decimal(spec.assumed_size if isinstance(spec.assumed_size, int) else DEFAULT_LIST_SIZE)
        if isinstance(spec.sized_fields, list) and spec.sized_fields:
            return Decimal(1), dict.fromkeys(spec.sized_fields, size)
        return size, {}

    def _included(self, node: Any) -> bool:
        for directive, skip_when in ((GraphQLSkipDirective, True), (GraphQLIncludeDirective, False)):
            try:
                values = get_directive_values(directive, node, self.prepared.variables)
            except GraphQLError:
                return False
            if values is not None and values.get("if") is skip_when:
                return False
        return True


def _page_maximum(definition: GraphQLField, spec: ListSize) -> int:
    """The most a slicing argument counts: the sized child list's ``assumedSize`` (the field's page maximum,
    the ``@constraint(max:)`` of its argument: a larger one was refused before the cost is estimated,
    :mod:`gateway.arguments`), unbounded without one."""
    parent = get_named_type(definition.type)
    fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
    sized = spec.sized_fields if isinstance(spec.sized_fields, list) else []
    caps = [c.assumed_size for name in sized if (c := _directive(fields.get(name), ListSize)) is not None]
    whole = [cap for cap in caps if isinstance(cap, int)]
    return max(whole) if whole else int(_CAP)


@dataclass(frozen=True, slots=True)
class Estimate:
    """An operation's static cost, and the selections looked at to find it (the work, for tests)."""

    cost: int
    visits: int
    representations: int = 0
    """Federation representations the operation gives ``_entities``, over all its fields."""


def estimate(schema: GraphQLSchema, prepared: PreparedOperation) -> Estimate:
    """The operation's static cost, rounded up to a whole number."""
    operation = prepared.operation
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Estimate(0, 0)
    walk = _Walk(schema, prepared)
    total = walk.selection_set(root, operation.selection_set, {}, operation.operation is OperationType.MUTATION)
    return Estimate(ceil(total), walk.visits, walk.representations)


class CostContext(Protocol):
    """The request context as the cost guard sees it (the gateway's context satisfies it)."""

    budget: Budget
    rate_key: str
    limiter: RateLimiter | None
    cost: int | None


class CostGuard(SchemaExtension):
    """Refuse an operation over the representations limit, the caller's ``max_cost`` or cost window, before
    the consent gate runs.

    An operation's estimate depends only on the schema, the document, the operation and the variables, so
    it is made once per distinct (document text, operation name, variables) and remembered
    (:class:`CostMemo`, :data:`COSTS_KEPT` per schema); the caller's budget and window are checked on
    every request.
    """

    def __init__(self, *, limits: Limits | None = None) -> None:
        super().__init__()
        self._max_representations = (limits or Limits()).max_representations

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: CostContext = execution.context
        if execution.graphql_document is not None:
            schema = execution.schema._schema
            found = _memo(schema).estimate(
                execution.query, execution.graphql_document, execution.operation_name, execution.variables
            )
            if found is not None:
                if found.representations > self._max_representations:
                    most = self._max_representations
                    message = (
                        f"The operation gives {found.representations} representations; at most {most} are allowed."
                    )
                    raise GraphQLError(message, original_error=LimitExceeded(message, "maxRepresentations", most))
                cost = found.cost
                context.cost = cost
                budget = context.budget
                if cost > budget.max_cost:
                    message = (
                        f"The operation costs {cost} points; at most {budget.max_cost} are allowed for your client."
                    )
                    raise GraphQLError(message, original_error=LimitExceeded(message, "maxCost", budget.max_cost))
                if context.limiter is not None:
                    await context.limiter.take(context.rate_key, budget, Window.COST, cost)
        yield


COSTS_KEPT = 512
_Key = tuple[str, str | None, str]
"""Distinct (document, operation, variables) whose cost is remembered per schema, least recently used out first."""


class CostMemo:
    """Operation costs of one schema, estimated once per distinct document text, operation name and variables."""

    def __init__(self, schema: GraphQLSchema, size: int = COSTS_KEPT) -> None:
        self._schema = schema
        self._estimates: LRUCache[_Key, Estimate | None] = LRUCache(maxsize=size)
        self.estimates = 0
        """Operations estimated so far (the work; a repeated request adds none)."""

    def estimate(
        self, query: str | None, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> Estimate | None:
        """The operation's estimate, or ``None`` when execution would refuse the request (no such operation,
        variables that do not coerce): then there is nothing to cost, and execution reports it."""
        key = _key(query, operation_name, variables)
        if key is not None and key in self._estimates:
            return self._estimates[key]
        prepared = prepare_operation(self._schema, document, operation_name, variables)
        found = estimate(self._schema, prepared) if isinstance(prepared, PreparedOperation) else None
        self.estimates += 1
        if key is not None:
            self._estimates[key] = found
        return found

    def cost(
        self, query: str | None, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> int | None:
        """The operation's cost (see :meth:`estimate`)."""
        found = self.estimate(query, document, operation_name, variables)
        return None if found is None else found.cost


def _key(
    query: str | None, operation_name: str | None, variables: Mapping[str, Any] | None
) -> tuple[str, str | None, str] | None:
    """What an operation's cost depends on besides the schema, as a key; ``None`` when it cannot be one."""
    if query is None:
        return None
    try:
        values = json.dumps(variables or {}, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return query, operation_name, values


_MEMOS: WeakKeyDictionary[GraphQLSchema, CostMemo] = WeakKeyDictionary()


def _memo(schema: GraphQLSchema) -> CostMemo:
    """The cost memo of ``schema`` (made on first use; gone with the schema)."""
    memo = _MEMOS.get(schema)
    if memo is None:
        memo = _MEMOS[schema] = CostMemo(schema)
    return memo


__all__ = ["COST_DIRECTIVE", "LIST_SIZE_DIRECTIVE", "CostGuard", "CostMemo", "Estimate", "estimate", "field_weight"]
