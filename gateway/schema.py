"""Assemble the strawberry schema: types from ``resolvers/``, extensions from ``auth/`` and here.

Wiring only. Extension order matters: the error translation wraps the operation (outermost), the
consent gate decides before execution and records after it.
"""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import MaxAliasesLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig

from auth.gate import ConsentGate
from gateway.errors import ErrorTranslation
from resolvers.patient import Query


def build_schema(*, max_depth: int = 12, max_aliases: int = 30) -> strawberry.Schema:
    """The gateway's schema (no I/O; safe to call at import time or in tests)."""
    return strawberry.Schema(
        query=Query,
        extensions=[
            ErrorTranslation,
            partial(QueryDepthLimiter, max_depth=max_depth),
            partial(MaxAliasesLimiter, max_alias_count=max_aliases),
            partial(ParserCache, maxsize=512),
            partial(ValidationCache, maxsize=512),
            ConsentGate,
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


def schema_sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
