"""The gateway's own ids never look like a CPR number, so masking never hides one from an operator."""

from __future__ import annotations

import uuid
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from sources.ids import CPR_SHAPED, new_hex_id, new_uuid

CPR_LIKE_FIRST = uuid.UUID("d21c5498-3933-49cf-be9d-c431bd5a9b03")
"""A UUID4 whose hex holds ten digits in a row (5498393349): it was masked in a span."""


@given(st.lists(st.uuids(version=4), min_size=1, max_size=20))
def test_an_id_is_the_first_drawn_that_holds_no_cpr_shaped_run(drawn: list[uuid.UUID]) -> None:
    fallback = uuid.UUID("abcdefab-cdef-4bcd-abcd-efabcdefabcd")
    sequence = [CPR_LIKE_FIRST, *drawn, fallback]
    for make, render in ((new_hex_id, lambda u: u.hex), (new_uuid, str)):
        with mock.patch("sources.ids.uuid.uuid4", side_effect=sequence):
            made = make()
        assert made == next(render(u) for u in sequence if not CPR_SHAPED.search(render(u)))
        assert not CPR_SHAPED.search(made)


def test_the_example_would_have_been_masked() -> None:
    assert CPR_SHAPED.search(CPR_LIKE_FIRST.hex)
