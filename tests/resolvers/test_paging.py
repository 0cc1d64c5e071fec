"""The paging every connection shares (resolvers/paging.py): every item once, in order, from any list and page size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.errors import InvalidArgument
from resolvers.paging import MAX_PAGE, decode_cursor, encode_cursor, page

keys = st.lists(st.tuples(st.integers(-(10**6), 10**6), st.text(min_size=1, max_size=5)), unique=True, max_size=40)


def walk(records: list[tuple[int, str]], first: int, *, keyed: bool = True) -> tuple[list[tuple[int, str]], int]:
    """Every page from the start, following `endCursor`: what they showed, and how many pages."""
    seen: list[tuple[int, str]] = []
    after, pages = None, 0
    while True:
        found = page(records, first, after, tag="list", key=(lambda r: r) if keyed else None)
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
    found = page(records, first, None, tag="list", key=lambda r: r)
    if not found.items:
        return
    gone = data.draw(st.sampled_from(found.items))
    rest = [r for r in records if r != gone]

    after = page(rest, first, found.info.end_cursor, tag="list", key=lambda r: r)

    assert after.items == [r for r in rest if r > found.items[-1]][:first]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        encode_cursor("other", (1, "a")),  # another list's
        encode_cursor("list", ("1", "a")),  # a position of another shape
        encode_cursor("list", (1,)),
        "WyJsaXN0IiwxLG51bGxd",  # ["list",1,null]
        "WyJsaXN0Il0",  # ["list"]
        "eyJsaXN0IjoxfQ",  # {"list":1}
    ],
)
def test_a_cursor_of_another_list_or_no_cursor_is_bad_input_naming_after(cursor: str):
    with pytest.raises(InvalidArgument) as raised:
        page([(1, "a"), (2, "b")], 1, cursor, tag="list", key=lambda r: r)

    assert raised.value.argument == "after"


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE + 1])
def test_a_page_size_outside_one_to_the_maximum_is_bad_input_naming_first(first: int):
    with pytest.raises(InvalidArgument) as raised:
        page([], first, None, tag="list")

    assert raised.value.argument == "first"


def test_a_cursor_holds_the_position_it_was_given_and_nothing_else():
    assert decode_cursor(encode_cursor("list", (-3, "rec-1")), "list") == (-3, "rec-1")
