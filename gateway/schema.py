"""Assemble the strawberry schema: types from ``resolvers/``, extensions from ``auth/`` and here.

Wiring only. Every error is coded and masked in :meth:`GatewaySchema.execute`, so errors raised
by extensions (the consent gate, the access record) are translated too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult

from auth.fields import FieldGuard
from auth.gate import ConsentGate
from gateway.errors import translate
from resolvers.mutations import Mutation
from resolvers.query import Query
from resolvers.scalars import SCALAR_MAP


class GatewaySchema(strawberry.Schema):
    """strawberry's schema without its default error logging.

    strawberry logs every error with its traceback and message, which can hold upstream text or
    personal data; :class:`~gateway.errors.ErrorTranslation` logs class, code, source and path instead.
    """

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Execute, then code and mask every error, wherever it was raised (extensions included)."""
        result = await super().execute(*args, **kwargs)
        context = kwargs.get("context_value", args[2] if len(args) > 2 else None)
        partial = getattr(context, "partial_errors", None)
        if partial and result.data is not None:
            result.errors = [*(result.errors or []), *partial]
        if result.errors:
            result.errors = [translate(error) for error in result.errors]
        return result


def build_schema(*, max_depth: int = 12, max_aliases: int = 30) -> strawberry.Schema:
    """The gateway's schema (no I/O; safe to call at import time or in tests)."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            partial(QueryDepthLimiter, max_depth=max_depth),
            partial(MaxAliasesLimiter, max_alias_count=max_aliases),
            partial(ParserCache, maxsize=512),
            partial(ValidationCache, maxsize=512),
            ConsentGate,
            FieldGuard,
        ],
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )


def schema_sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
