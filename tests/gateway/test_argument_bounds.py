"""Bounds are checked on the operation as execution will run it: defaults, ``@skip``/``@include``, fragments.

The end-to-end property (``tests/e2e/test_argument_bounds_http.py``) shows that a value out of bounds runs
nothing; these show *which* operation the check reads, without a source: the one graphql-core selects,
with the variables it coerces (a default counts, a skipped field does not), a fragment read in each date
range it is spread under.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from graphql import parse

from auth.operation import PreparedOperation, prepare_operation
from gateway.arguments import refused_arguments
from gateway.schema import build_schema

SCHEMA = build_schema()._schema
HANS = "1403723705"
TODAY = date(2026, 5, 4)


def refused(query: str, variables: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(argument, message) of every refusal of ``query``."""
    prepared = prepare_operation(SCHEMA, parse(query), None, variables)
    assert isinstance(prepared, PreparedOperation)
    errors = refused_arguments(SCHEMA, prepared, TODAY)
    return [(getattr(e.original_error, "argument", ""), e.message) for e in errors]


def test_a_variables_default_is_checked_as_execution_would_use_it() -> None:
    query = (
        f'query Q($n: Int! = 0) {{ patient(cpr: "{HANS}") {{ appointments {{ list(first: $n) {{ totalCount }} }} }} }}'
    )

    assert [a for a, _ in refused(query)] == ["first"]
    assert refused(query, {"n": 10}) == []


def test_a_skipped_field_is_not_checked_and_an_included_one_is() -> None:
    query = (
        f'query Q($skip: Boolean!) {{ patient(cpr: "{HANS}") {{ '
        "accessLog(first: 1000) @skip(if: $skip) { pageInfo { hasNextPage } } } }"
    )

    assert refused(query, {"skip": True}) == []
    assert [a for a, _ in refused(query, {"skip": False})] == ["first"]


def test_a_fragment_is_checked_in_each_range_it_is_spread_under() -> None:
    query = (
        f'{{ patient(cpr: "{HANS}") {{ '
        'short: appointments(from: "2026-01-01", to: "2026-02-01") { ...Days } '
        'long: appointments(from: "2026-01-01", to: "2027-06-01") { ...Days } '
        "} } fragment Days on Appointments { days(includeEmptyDays: true) { date } }"
    )

    assert [a for a, _ in refused(query)] == ["includeEmptyDays"]


def test_a_refusal_names_the_field_and_what_the_bound_takes_never_the_value() -> None:
    query = f'{{ patient(cpr: "{HANS}") {{ appointments(filter: {{sorIds: ["1709683160x"]}}) {{ complete }} }} }}'

    ((argument, message),) = refused(query)

    assert argument == "filter.sorIds.0"
    assert "Patient.appointments" in message and "SOR-ID" in message
    assert "1709683160" not in message


def test_the_bounds_of_a_change_are_checked_inside_its_input_objects_and_lists() -> None:
    query = (
        f'mutation {{ updateMasterCard(cpr: "{HANS}", version: "1", changes: '
        '{relatives: [{givenName: "Ole"}, {givenName: "Inge", phone: "12"}], preferredLanguage: "x"}) '
        "{ version } }"
    )

    assert sorted(a for a, _ in refused(query)) == ["changes.preferredLanguage", "changes.relatives.1.phone"]
