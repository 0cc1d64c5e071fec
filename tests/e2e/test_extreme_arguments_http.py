"""Extreme dates and integers in every argument that feeds date arithmetic or paging: coded, never INTERNAL_ERROR.

Date arguments must lie in 1900-01-01 to 2199-12-31 (the ``Date`` scalar, ``resolvers.scalars``), so
no computation on them reaches the ends of Python's calendar; outside it they are ``BAD_USER_INPUT``
naming the argument (``from``), or the variable and the path into it (``$block.validity.end``). A
cursor's moment is one a store can hold or the cursor is refused. Blocks a source holds may still
reach the calendar's last day; cutting their periods out of a search saturates instead of
overflowing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from resolvers.errors import EARLIEST_DATE, LATEST_DATE
from sandbox.population import Block
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, Gateway, Harness, error_codes
from tests.resolvers.test_paging import raw

EDGES = [date.min, date.min + timedelta(days=1), date.max, date.max - timedelta(days=1)]
EDGES += [EARLIEST_DATE - timedelta(days=1), EARLIEST_DATE, LATEST_DATE, LATEST_DATE + timedelta(days=1)]
DATES = st.sampled_from(EDGES) | st.dates()
INTS = st.sampled_from([-(2**31), -1, 0, 1, 100, 101, 200, 201, 2**31 - 1]) | st.integers(-(2**31), 2**31 - 1)
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

APPOINTMENTS = """
query($cpr: CPR!, $from: Date, $to: Date, $first: Int!, $empty: Boolean!) {
  patient(cpr: $cpr) {
    appointments(from: $from, to: $to) {
      from to
      list(first: $first) { totalCount }
      days(includeEmptyDays: $empty) { date }
      weeks(includeEmptyDays: $empty) { week start end }
    }
  }
}
"""
ACCESS_LOG = """
query($cpr: CPR!, $from: Date, $to: Date, $first: Int!, $after: String) {
  patient(cpr: $cpr) { accessLog(from: $from, to: $to, first: $first, after: $after) { totalCount nodes { id } } }
}
"""
CREATE_BLOCK = "mutation($cpr: CPR!, $block: BlockInput!) { createBlock(cpr: $cpr, block: $block) { id } }"
CHANGE_ADDRESS = """
mutation($cpr: CPR!, $changes: MasterCardChanges!) {
  updateMasterCard(cpr: $cpr, version: "1", changes: $changes) { phone }
}
"""


@pytest.fixture
def api(gateway: Gateway) -> Harness:
    return Harness(gateway)


def outside(day: date | None) -> bool:
    return day is not None and not EARLIEST_DATE <= day <= LATEST_DATE


def errors(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, argument) of every error; never INTERNAL_ERROR."""
    found = [(e["extensions"]["code"], e["extensions"].get("argument")) for e in body.get("errors", [])]
    assert all(code != "INTERNAL_ERROR" for code, _ in found), body
    return found


@SETTINGS
@given(start=st.none() | DATES, end=st.none() | DATES, first=INTS, empty=st.booleans())
async def test_appointment_ranges_and_pages(
    api: Harness, start: date | None, end: date | None, first: int, empty: bool
) -> None:
    gateway = api.gateway
    variables = {"from": start and str(start), "to": end and str(end), "first": first, "empty": empty}

    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **variables)

    found = errors(body)
    assert {code for code, _ in found} <= {"BAD_USER_INPUT"}
    if outside(start) or outside(end):
        named = {name for name, day in (("$from", start), ("$to", end)) if outside(day)}
        assert {argument for _, argument in found} == named
        assert body["data"] is None, "variables that do not coerce run nothing"


def cursor(micros: int, tag: str) -> str:
    """A cursor at ``micros`` microseconds since 1970 in the list ``tag``."""
    return raw(tag, micros, "some-id")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ENDS = [(moment.replace(tzinfo=UTC) - EPOCH) // timedelta(microseconds=1) for moment in (datetime.max, datetime.min)]
"""The last and first moment Python's calendar holds, as a cursor's microseconds since 1970."""
MOMENTS = st.sampled_from([*ENDS, ENDS[0] + 1, ENDS[1] - 1, 10**30, -(10**30), 0])
AFTER = st.none() | st.text(max_size=30) | st.builds(cursor, MOMENTS, st.sampled_from(["appointments", "minlog", "x"]))


@SETTINGS
@given(
    start=st.none() | st.none() | DATES,
    end=st.none() | st.none() | DATES,
    first=st.integers(1, 100) | INTS,
    after=AFTER,
)
@example(start=None, end=None, first=5, after=cursor(ENDS[0], "minlog"))
@example(start=None, end=None, first=5, after=cursor(ENDS[1], "minlog"))
async def test_access_log_ranges_and_cursors(
    api: Harness, start: date | None, end: date | None, first: int, after: str | None
) -> None:
    gateway = api.gateway
    variables = {"from": start and str(start), "to": end and str(end), "first": first, "after": after}

    body = await gateway.graphql(ACCESS_LOG, gateway.citizen(HANS), cpr=HANS, **variables)

    assert {code for code, _ in errors(body)} <= {"BAD_USER_INPUT"}


@contextmanager
def kept_blocks(gateway: Gateway) -> Iterator[list[Block]]:
    """The sandbox's blocks, put back exactly afterwards."""
    blocks = gateway.sandbox.sandbox.population.blocks
    saved = list(blocks)
    try:
        yield blocks
    finally:
        blocks[:] = saved


@SETTINGS
@given(valid_from=st.none() | DATES, valid_to=st.none() | DATES, period=st.tuples(DATES, DATES))
async def test_block_periods(
    api: Harness, valid_from: date | None, valid_to: date | None, period: tuple[date, date]
) -> None:
    gateway = api.gateway
    block = {
        "kind": "DATA_PERIOD",
        "dataPeriod": {"start": str(min(period)), "end": str(max(period))},
        "validity": {"start": valid_from and str(valid_from), "end": valid_to and str(valid_to)},
    }
    with kept_blocks(gateway):
        body = await gateway.graphql(CREATE_BLOCK, gateway.citizen(HANS), cpr=HANS, block=block)

    found = errors(body)
    assert {code for code, _ in found} <= {"BAD_USER_INPUT"}
    named = {"$block.validity.start": valid_from, "$block.validity.end": valid_to}
    named |= {"$block.dataPeriod.start": min(period), "$block.dataPeriod.end": max(period)}
    if any(outside(day) for day in named.values()):
        assert {argument for _, argument in found} == {name for name, day in named.items() if outside(day)}


@SETTINGS
@given(period=st.tuples(st.none() | DATES, DATES).flatmap(lambda p: st.sampled_from([p, p[::-1]])))
async def test_a_block_reaching_the_end_of_the_calendar_narrows_searches(
    api: Harness, period: tuple[date | None, date | None]
) -> None:
    gateway = api.gateway
    start, end = period
    if start is not None and end is not None and end < start:
        start, end = end, start
    with kept_blocks(gateway) as blocks:
        blocks.append(Block("extreme", HANS, "data_period", data_start=start, data_end=end))
        body = await gateway.graphql(
            "query($cpr: CPR!) { patient(cpr: $cpr) { appointments { withheld } plans { withheld } } }",
            gateway.professional(DOCTOR_WITH_RELATIONS),
            cpr=HANS,
        )

    assert errors(body) == [] and body["data"]["patient"]["appointments"]["withheld"] is True


async def test_a_temporary_address_ending_after_2199_is_refused(gateway: Gateway) -> None:
    address = {"line": "Testvej 1", "postalCode": "5000", "city": "Odense C", "endDate": "9999-12-31"}

    body = await gateway.graphql(CHANGE_ADDRESS, gateway.citizen(HANS), cpr=HANS, changes={"temporaryAddress": address})

    assert errors(body) == [("BAD_USER_INPUT", "$changes.temporaryAddress.endDate")]


async def test_the_reported_input_names_its_argument(gateway: Gateway) -> None:
    query = '{ patient(cpr: "1403723705") { appointments(from: "9999-12-31") { complete } } }'

    body = await gateway.graphql(query, gateway.citizen(HANS))

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == "from"
