"""Connections: the one shape of every list in the schema that can grow, and their opaque keyset cursors.

A list whose length depends on the patient's data (or the caller's) is a **connection** (ADR 0025,
the GraphQL Cursor Connections convention with GitHub's ``nodes`` shortcut): ``nodes`` (one page),
``pageInfo`` and ``totalCount``, paged by ``first`` (1 to :data:`MAX_PAGE`, default
:data:`DEFAULT_PAGE`) and ``after`` (the previous page's ``pageInfo.endCursor``). A list merged
from several sources is a :class:`SourcedConnection`: it also says whether every source answered
(``complete``), how each did (``sources``) and whether the patient's blocks held something back
(``withheld``), so a failed source is never an empty page that looks complete.

A cursor is the position of an item in its list's order (a tuple of whole numbers and text: its sort
key and ID, or its index in a list without IDs), tagged with the list it came from and
base64url-encoded so clients treat it as opaque; never a name or a CPR number. A cursor of another
list, or text that is not a cursor, is ``BAD_USER_INPUT`` naming ``after``; a cursor whose item has
gone since still finds its place where the list has IDs (keyset, not offset).

Both arguments are bounded where they are declared (:mod:`resolvers.bounds`): ``first`` by
:data:`PAGE`, ``after`` by its list's :class:`Cursor` (its tag and the kinds of its positions), and the
gateway checks them before anything is fetched; :func:`page` reads values that hold.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, Self, TypeAlias, TypeVar, cast

import strawberry

from resolvers.bounds import Constraint, Format, constraint, described
from resolvers.common import SourceStatus
from resolvers.cost import list_size
from resolvers.protection import Redactable, places, redact
from resolvers.sectors import NO_SECTORS, Sectors

MAX_PAGE = 100
"""The most items one page of any connection holds (``first``); more is ``BAD_USER_INPUT``."""
DEFAULT_PAGE = 20
"""``first`` when the caller does not say."""
SOURCE_COUNT = 6
"""About how many sources (endpoints) a merged list asks: the cost model's size of ``sources``."""

Key: TypeAlias = tuple[int | str, ...]
"""A position in a list: its sort key and the item's ID (or its index), compared as a tuple."""
NodeT = TypeVar("NodeT")
R = TypeVar("R")

PAGE = constraint(min=1, max=MAX_PAGE)
"""The bound on ``first`` of every connection."""
FIRST_TEXT = described("Items per page", PAGE)
AFTER_TEXT = "The previous page's `pageInfo.endCursor`: the page starts after it"
First: TypeAlias = Annotated[int, strawberry.argument(description=FIRST_TEXT, directives=[PAGE])]
"""The ``first`` argument of a connection field (default :data:`DEFAULT_PAGE`)."""


@dataclass(frozen=True)
class Cursor:
    """The cursors of one list: its ``tag`` and the kinds of its positions' parts (``(int, str)``: a sort key
    and an ID; ``(int,)``: an index). A cursor of another list, or of another shape, is out of bounds."""

    tag: str
    shape: tuple[type, ...]
    fits: Callable[[Key], bool] | None = None
    """A further check of a position, for a list whose positions must also be a store's (a moment that exists)."""

    def encode(self, position: Key) -> str:
        """The opaque cursor for ``position`` in this list."""
        assert tuple(type(part) for part in position) == self.shape, "a position of this list's shape"
        text = json.dumps([self.tag, *position], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def position(self, cursor: str) -> Key | None:
        """The position in ``cursor``; ``None`` unless this list made it."""
        try:
            found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(found, list) or len(found) < 2 or found[0] != self.tag:
            return None
        position = tuple(found[1:])
        if tuple(type(part) for part in position) != self.shape or (self.fits is not None and not self.fits(position)):
            return None
        return position

    def decode(self, cursor: str) -> Key:
        """The position in ``cursor``, checked before execution (:attr:`bound`); a ``ValueError`` here is the
        gateway's fault, masked as an internal error."""
        position = self.position(cursor)
        if position is None:
            raise ValueError("a cursor of another list reached a resolver")
        return position

    @functools.cached_property
    def bound(self) -> Constraint:
        """The bound on ``after``: a cursor of this list."""
        form = Format("cursor", "a cursor this list gave", lambda c: c if self.position(c) is not None else None)
        return constraint(format=form)

    @functools.cached_property
    def argument(self) -> Any:
        """The ``after`` argument of this list's connection field: ``Annotated[str | None, cursor.argument]``."""
        return strawberry.argument(description=described(AFTER_TEXT, self.bound), directives=[self.bound])


INDEX: Final = (int,)
"""The shape of a position in a list without IDs: its index."""


@strawberry.type(description="Where a page of a connection starts and ends (GraphQL Cursor Connections PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items come before this page: it starts after a cursor.")
    start_cursor: str | None = strawberry.field(description="The cursor of this page's first item; null when empty.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of this page's last item: pass it as `after` for the next page; null when empty."
    )


@strawberry.type(
    description=(
        "One page of a list that can grow (a connection): its nodes, where the page ends, and how many the "
        "whole list holds. Page with `first` and `after`."
    )
)
class Connection(Redactable, Generic[NodeT]):
    nodes: list[NodeT] = strawberry.field(
        description="This page's items, in the list's order.", directives=[list_size(MAX_PAGE)]
    )
    page_info: PageInfo = strawberry.field(description="Where this page starts and ends.")
    total: strawberry.Private[int | Callable[[], Awaitable[int]]]
    """The whole list's length, or how to count it when asked (a store's count)."""

    @strawberry.field(description="How many items the whole list holds, over every page.")
    async def total_count(self) -> int:
        return self.total if isinstance(self.total, int) else await self.total()

    def places(self) -> frozenset[str]:
        """The SOR codes whose sector decides how the nodes are redacted."""
        return places(self.nodes)

    def redacted(self, sectors: Sectors = NO_SECTORS) -> Self:
        """The page with every node in its placeholder form: a connection is redacted where it is returned."""
        clone = copy.copy(self)
        clone.nodes = cast("list[NodeT]", [redact(node, sectors) for node in self.nodes])
        return clone

    def holds_nothing(self) -> bool:
        return not self.nodes


@strawberry.type(
    name="Connection",  # a specialisation is named for its node type: CarePlanConnection
    description=(
        "One page of a list merged from several sources (a connection): its nodes, where the page ends, how "
        "many the whole list holds, and whether every source answered. Page with `first` and `after`."
    ),
)
class SourcedConnection(Connection[NodeT], Generic[NodeT]):
    withheld: bool = strawberry.field(
        description="The patient's blocks (Min Spærring) hold something back from you; never what or how much."
    )
    complete: bool = strawberry.field(
        description="Every source answered in full; false means items may be missing (each is an error too)."
    )
    sources: list[SourceStatus] = strawberry.field(
        description="Each source asked and how it answered.", directives=[list_size(SOURCE_COUNT)]
    )


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of a list held in memory: its items, where it starts and ends, and the list's length."""

    items: list[R]
    info: PageInfo
    total: int


def page(
    records: Sequence[R], first: int, after: str | None, *, cursor: Cursor, key: Callable[[R], Key] | None = None
) -> Page[R]:
    """The page of ``records`` (in their list's order, ``key`` ascending) asked by ``first`` and ``after``
    (both checked before execution: :data:`PAGE`, ``cursor.bound``).

    Without ``key`` an item's position is its index: for a list without IDs, in an order its source keeps.
    """
    keyed = [(key(r) if key is not None else (n,), r) for n, r in enumerate(records)]
    rest = keyed
    if after is not None:
        position = cursor.decode(after)
        rest = [(k, r) for k, r in keyed if k > position]
    shown = rest[:first]
    info = PageInfo(
        has_next_page=len(rest) > first,
        has_previous_page=len(rest) < len(keyed),
        start_cursor=cursor.encode(shown[0][0]) if shown else None,
        end_cursor=cursor.encode(shown[-1][0]) if shown else None,
    )
    return Page([r for _, r in shown], info, len(keyed))
