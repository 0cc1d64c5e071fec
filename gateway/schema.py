"""Assemble the strawberry schema: types from ``resolvers/``, extensions from ``auth/`` and here.

Wiring only. Every error is coded and masked in :meth:`GatewaySchema.execute` (and in every result
of :meth:`GatewaySchema.subscribe`), so errors raised by extensions (the consent gate, the access
record) are translated too. Execution runs the operation the consent gate decided for, with the
variable values it read (:class:`DecidedExecutor`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationType, get_operation_ast
from graphql import build_schema as graphql_build_schema
from graphql.execution import MiddlewareManager
from strawberry.extensions import ValidationCache
from strawberry.federation import Schema as FederationSchema
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType

from auth.errors import AccessDenied, FieldNotAllowed
from auth.execution import weak_helpers
from auth.fields import FieldGuard, refusal_reason
from auth.gate import ConsentGate
from gateway.arguments import ArgumentBounds, refusals_of
from gateway.cost import CostGuard
from gateway.echoes import NOTHING_SENT, SentValues, schema_names
from gateway.errors import translate
from gateway.explore import SchemaExplorers
from gateway.limits import DocumentLimits, Limits, operation_limits_rule
from gateway.telemetry import OperationTelemetry
from gateway.validation import REPLACED_RULES, variable_errors
from resolvers.cost import annotate
from resolvers.federation import ANY_SCALAR, FEDERATION_VERSION
from resolvers.mutations import Mutation
from resolvers.query import Query
from resolvers.scalars import SCALAR_MAP
from resolvers.subscription import Subscription

_VALIDATED_DOCUMENTS = 512
SUBSCRIPTION_TYPE = "Subscription"


@dataclasses.dataclass
class RequestExecution(ExecutionContext):
    """strawberry's execution context, naming only the operation the request named.

    strawberry otherwise names the document's first operation when the request names none, and so
    runs the first of several; the GraphQL spec (§6.1 *GetOperation*) makes that a request error.
    """

    @property
    def operation_name(self) -> str | None:
        return self._provided_operation_name

    @property
    def operation_type(self) -> StrawberryOperationType:
        if self.graphql_document is None:
            raise RuntimeError("No GraphQL document available")
        operation = get_operation_ast(self.graphql_document, self.operation_name)
        if operation is None:
            raise RuntimeError("The request does not select one operation")
        return StrawberryOperationType(operation.operation.value)


class DecidedExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, bound to the operation and variable values the consent gate read.

    The gate prepares both with the same graphql-core function this executor's ``build`` uses; if
    execution would run another operation, it runs nothing (fail closed), and it runs with the very
    coerced variable values the gate read. Its resolver helpers reach it weakly
    (:func:`auth.execution.weak_helpers`). When the plan refuses no field, :class:`~auth.fields.FieldGuard`
    is left out of execution: it would check every field resolved and refuse none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = weak_helpers(self)

    @classmethod
    def build(
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        built = super().build(
            schema, document, root_value, context_value, raw_variable_values, operation_name, *args, **kwargs
        )
        if isinstance(built, list):
            return variable_errors(schema, document, operation_name, raw_variable_values, built)
        prepared = getattr(built.context_value, "prepared_operation", None)
        if prepared is None or prepared.operation is not built.operation:
            message = "Access was not decided for this operation."
            return [GraphQLError(message, original_error=AccessDenied(message))]
        built.variable_values = prepared.variables
        plan = getattr(built.context_value, "access_plan", None)
        denied = [f for f in getattr(plan, "denied_fields", ()) if f.startswith(f"{SUBSCRIPTION_TYPE}.")]
        if denied and built.operation.operation is OperationType.SUBSCRIPTION:
            # graphql-core calls a subscription's resolver without the field guard's middleware: refuse it here.
            refused = FieldNotAllowed(refusal_reason(built.context_value), denied[0])
            return [GraphQLError(str(refused), original_error=refused)]
        if plan is not None and not plan.denied_fields and built.middleware_manager is not None:
            kept = [m for m in built.middleware_manager.middlewares if not isinstance(m, FieldGuard)]
            built.middleware_manager = MiddlewareManager(*kept) if kept else None
        return built


class GatewaySchema(FederationSchema):
    """strawberry's Federation v2 subgraph schema without its default error logging (ADR 0022).

    strawberry logs every error with its traceback and message, which can hold upstream text or
    personal data; :class:`~gateway.errors.ErrorTranslation` logs class, code, source and path instead.
    """

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None

    def _create_execution_context(
        self,
        query: str | None,
        allowed_operation_types: Iterable[StrawberryOperationType],
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionContext:
        return RequestExecution(
            query=query,
            schema=self,
            allowed_operations=allowed_operation_types,
            context=context_value,
            root_value=root_value,
            variables=variable_values,
            provided_operation_name=operation_name,
            operation_extensions=operation_extensions,
        )

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Execute, then code and mask every error, wherever it was raised (extensions included); no message
        may hold a value the request sent (:func:`~gateway.echoes.withheld_echo`).

        A subscription never executes once: it streams over the WebSocket (:meth:`subscribe`); strawberry's
        HTTP view allows it over POST for multipart streaming, which the gateway does not speak.
        """
        allowed = kwargs.get("allowed_operation_types")
        if allowed is not None:
            kwargs["allowed_operation_types"] = [t for t in allowed if t is not StrawberryOperationType.SUBSCRIPTION]
        result = await super().execute(*args, **kwargs)
        return finish(result, *self._request(args, kwargs))

    async def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        """Subscribe; every result of the stream (and a refusal before it starts) is coded as :meth:`execute`'s."""
        results = await super().subscribe(*args, **kwargs)
        context, sent = self._request(args, kwargs)
        if isinstance(results, ExecutionResult):
            return finish(results, context, sent)
        return _finished(results, context, sent)

    def _request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[object, SentValues]:
        """The request's context, and the values it sent (its document's literals and its variables)."""
        query, variables, context = (kwargs.get(name, args[n] if len(args) > n else None) for n, name in _ARGS)
        return context, SentValues.of(query, variables, self._names)

    @functools.cached_property
    def _names(self) -> frozenset[str]:
        return schema_names(self._schema)


_ARGS = ((0, "query"), (1, "variable_values"), (2, "context_value"))
"""Where ``strawberry.Schema.execute`` and ``subscribe`` take the request's document, variables and context."""


def finish(result: ExecutionResult, context: object, sent: SentValues = NOTHING_SENT) -> ExecutionResult:
    """``result`` with the errors of fields that still returned data added, and every error coded and masked,
    none holding a value of those the request ``sent``; a refusal of arguments out of bounds is one error each."""
    partial = getattr(context, "partial_errors", None)
    if partial and result.data is not None:
        result.errors = [*(result.errors or []), *partial]
    if result.errors:
        explorer = bool(getattr(context, "explorer", False))
        errors = [each for error in result.errors for each in refusals_of(error)]
        result.errors = [translate(error, suggestions=explorer, sent=sent) for error in errors]
    return result


async def _finished(
    results: AsyncIterator[ExecutionResult], context: object, sent: SentValues
) -> AsyncGenerator[ExecutionResult, None]:
    """Each result of ``results`` finished; an error an extension raised while the operation was read (a
    syntax error, a limit, an argument out of bounds) becomes the refusal strawberry's stream would have
    made of it."""
    first = True
    try:
        async for result in results:
            yield finish(result, context, sent)
            first = False
    except Exception as error:  # strawberry's stream lets the extensions' own errors through
        coerced = error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
        refusal = PreExecutionError(data=None, errors=[coerced]) if first else ExecutionResult(None, [coerced])
        yield finish(refusal, context, sent)
    finally:
        closing = getattr(results, "aclose", None)
        if closing is not None:
            await closing()


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    """The gateway's schema (no I/O; safe to call at import time or in tests).

    The depth and alias rule is made here, once: every request adds the same rule object, so the
    validation cache hits for a document it has seen. graphql-core's value and field-merging rules are
    replaced by the gateway's versions (:mod:`gateway.validation`), the same classes on every request.
    """
    limits = limits or Limits()
    rules = (operation_limits_rule(limits.max_depth, limits.max_aliases),)
    annotate((Query, Mutation, Subscription))
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            OperationTelemetry,
            partial(DocumentLimits, limits=limits, rules=rules, replacing=REPLACED_RULES),
            SchemaExplorers,
            partial(ValidationCache, maxsize=_VALIDATED_DOCUMENTS),
            ArgumentBounds,
            partial(CostGuard, limits=limits),
            ConsentGate,
            FieldGuard,
        ],
        execution_context_class=DecidedExecutor,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        scalar_overrides={FederationAny: ANY_SCALAR},
        federation_version=FEDERATION_VERSION,
    )


def schema_sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql`` and served by ``_service { sdl }``."""
    return build_schema().as_str() + "\n"


def sdl_schema(sdl: str) -> GraphQLSchema:
    """graphql-core's schema of an SDL text as ``schema.graphql`` holds it.

    The Federation directives (``@link``, ``@key``) are imported by ``@link`` and, as subgraph SDL has
    them, not defined in the text: graphql-core's SDL validation would refuse them as unknown, so the
    text is built without it (the code's schema was validated when strawberry built it).
    """
    return graphql_build_schema(sdl, assume_valid_sdl=True)
