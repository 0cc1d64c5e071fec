"""graphql-core's executor without the reference cycle it makes for itself (ADR 0027).

graphql-core's ``Executor`` keeps resolver helpers bound to itself (``async_helpers``, passed to every
resolver as ``info.async_helpers``): the executor and its helpers hold each other, so an executor and
everything it reaches (the request's context, loaders, access plan and records) is only freed by the
cyclic garbage collector. :func:`weak_helpers` makes the same helpers reach the executor through a
weak reference; an executor then goes when its execution does, by reference counting.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql.execution import Executor
from graphql.type.definition import GraphQLResolveInfoHelpers


def weak_helpers(executor: Executor[Any]) -> GraphQLResolveInfoHelpers:
    """``executor``'s resolver helpers, reaching it weakly (it lives while its execution runs, when they are used).

    Raises ``RuntimeError`` when called after the executor is gone.
    """
    reference = weakref.ref(executor)

    def alive() -> Executor[Any]:
        found = reference()
        if found is None:
            raise RuntimeError("the operation's execution has ended")
        return found

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return alive().gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        alive().track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class AcyclicExecutor(Executor[Any]):
    """graphql-core's ``Executor`` (the same ``build``), whose resolver helpers reach it weakly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = weak_helpers(self)
