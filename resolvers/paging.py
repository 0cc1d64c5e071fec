"""Cursor paging shared by the list views: the ``PageInfo`` type and opaque keyset cursors.

A cursor is a position ``(moment, id)`` in a list ordered by time and then ID, base64url-encoded
so clients treat it as opaque. A list may tag its cursors, so a cursor from one list is refused by
another instead of silently paging from the wrong place.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

import strawberry

from resolvers.bounds import Format


@strawberry.type(description="Paging information for a list view (Relay-style).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")


def encode_cursor(moment: datetime, ident: str, tag: str | None = None) -> str:
    """The opaque cursor for position ``(moment, ident)`` in a list tagged ``tag``."""
    parts = [moment.isoformat(), ident] if tag is None else [tag, moment.isoformat(), ident]
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str | None = None) -> tuple[datetime, str]:
    """The position in ``cursor``, in UTC. The gateway has checked it with :func:`cursor_format` before
    execution; a ``ValueError`` here is the gateway's fault (masked as an internal error)."""
    position = _position(cursor, tag)
    if position is None:
        raise ValueError("a cursor of another list reached a resolver")
    return position


def cursor_format(tag: str | None = None) -> Format:
    """The form of a cursor of a list tagged ``tag`` (``@constraint(format: "cursor")``)."""
    return Format(
        "cursor",
        "a cursor this list gave (`pageInfo.endCursor`)",
        lambda cursor: cursor if _position(cursor, tag) is not None else None,
    )


def _position(cursor: str, tag: str | None) -> tuple[datetime, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if tag is not None:
        found, _, raw = raw.partition("|")
        if found != tag:
            return None
    start, _, ident = raw.partition("|")
    try:
        moment = datetime.fromisoformat(start)
        if moment.tzinfo is None or not ident:
            return None
        return moment.astimezone(UTC), ident  # a moment the lists can compare and stores can query
    except (ValueError, OverflowError):
        return None
