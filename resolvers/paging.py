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

from resolvers.errors import InvalidArgument


@strawberry.type(description="Paging information for a list view (Relay-style).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` to get the next page.")


def encode_cursor(moment: datetime, ident: str, tag: str | None = None) -> str:
    """The opaque cursor for position ``(moment, ident)`` in a list tagged ``tag``."""
    parts = [moment.isoformat(), ident] if tag is None else [tag, moment.isoformat(), ident]
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, tag: str | None = None, argument: str = "after") -> tuple[datetime, str]:
    """The position in ``cursor``, in UTC; :class:`InvalidArgument` for ``argument`` unless this list made it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(argument, f"{argument} is not a cursor from this list") from None
    if tag is not None:
        found, _, raw = raw.partition("|")
        if found != tag:
            raise InvalidArgument(argument, f"{argument} is not a cursor from this list")
    start, _, ident = raw.partition("|")
    try:
        moment = datetime.fromisoformat(start)
        if moment.tzinfo is None or not ident:
            raise ValueError("not a position")
        moment = moment.astimezone(UTC)  # a moment the lists can compare and stores can query
    except (ValueError, OverflowError):
        raise InvalidArgument(argument, f"{argument} is not a cursor from this list") from None
    return moment, ident
