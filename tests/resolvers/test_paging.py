"""The paging every connection shares (resolvers/paging.py): every item once, in order, from any list and page size.

``first`` and ``after`` are bounded where they are declared (:data:`resolvers.paging.PAGE`, a list's
:class:`~resolvers.paging.Cursor`) and checked before execution; here the bounds say what they refuse.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.paging import INDEX, MAX_PAGE, PAGE, Cursor, page

KEYED = Cursor("list", (int, str))
INDEXED = Cursor("list", INDEX)

keys = st.lists(st.tuples(st.integers(-(10**6), 10**6), st.text(min_size=1, max_size=5)), unique=True, max_size=40)


def walk(records: list[tuple[int, str]], first: int, *, keyed: bool = True) -> tuple[list[tuple[int, str]], int]:
    """Every page from the start, following `endCursor`: what they showed, and how many pages."""
    seen: list[tuple[int, str]] = []
    after, pages = None, 0
    while True:
        found = page(records, first, after, cursor=KEYED if keyed else INDEXED, key=(lambda r: r) if keyed else None)
        pages += 1
        assert found.total == len(records)
        assert len(found.items) <= first
        assert found.info.has_previous_page is (after is not None and bool(records))
        seen += found.items
        if not found.info.has_next_page:
            return seen, pages
        after = found.info.end_cursor


@given(keys, st.integers(1, MAX_PAGE))
def test_walking_the_pages_shows_every_item_once_in_the_lists_order(records: list[tuple[int, str]], first: int):
    records = sorted(records)

    for keyed in (True, False):
        seen, pages = walk(records, first, keyed=keyed)

        assert seen == records
        assert pages == max(1, -(-len(records) // first))


@given(keys, st.integers(1, 10), st.data())
def test_a_cursor_whose_item_has_gone_still_finds_its_place(records: list[tuple[int, str]], first: int, data):
    records = sorted(records)
    found = page(records, first, None, cursor=KEYED, key=lambda r: r)
    if not found.items:
        return
    gone = data.draw(st.sampled_from(found.items))
    rest = [r for r in records if r != gone]

    after = page(rest, first, found.info.end_cursor, cursor=KEYED, key=lambda r: r)

    assert after.items == [r for r in rest if r > found.items[-1]][:first]


def raw(*parts: Any) -> str:
    """A cursor-like text of any parts (what a client could forge)."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        raw("other", 1, "a"),  # another list's
        raw("list", "1", "a"),  # a position of another shape
        raw("list", 1),
        raw("list", 1, None),
        raw("list"),
        "eyJsaXN0IjoxfQ",  # {"list":1}
    ],
)
def test_a_cursor_of_another_list_or_no_cursor_is_out_of_the_lists_bound(cursor: str):
    assert KEYED.position(cursor) is None
    assert [r.problem for r in KEYED.bound.refusals(cursor)] == ["must be a cursor this list gave"]
    with pytest.raises(ValueError, match="reached a resolver"):
        page([(1, "a"), (2, "b")], 1, cursor, cursor=KEYED, key=lambda r: r)


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE + 1])
def test_a_page_size_outside_one_to_the_maximum_is_out_of_the_page_bound(first: int):
    assert [r.problem for r in PAGE.refusals(first)] == [f"must be 1 to {MAX_PAGE}"]
    assert list(PAGE.refusals(1)) == list(PAGE.refusals(MAX_PAGE)) == []


def test_a_cursor_holds_the_position_it_was_given_and_nothing_else():
    assert KEYED.decode(KEYED.encode((-3, "rec-1"))) == (-3, "rec-1")
    assert KEYED.bound.checked_format is not None and KEYED.bound.checked_format.name == "cursor"
