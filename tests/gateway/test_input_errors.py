"""One rule for bad input, as a property over scalar types, input objects and enums, as literal and variable.

A value the caller supplied that does not fit its type is ``BAD_USER_INPUT`` with ``locations`` and
``extensions.argument``: the argument and the path into it for a literal (``override.ground``), the
variable and the path into it for a variable (``$o.ground``). A document that is not valid for the
schema is ``GRAPHQL_VALIDATION_FAILED``; graphql-core giving up is ``QUERY_TOO_COMPLEX`` with a limit.
Nothing here needs a token or a source: these errors come before any decision.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLInputType, GraphQLNonNull, get_named_type, is_input_object_type
from graphql.utilities.validate_input_value import validate_input_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.schema import build_schema
from gateway.settings import Settings
from tests.schema_inputs import Name, literal
from tests.schema_inputs import as_variable as variable

SCHEMA = build_schema()._schema
HANS = '"1403723705"'


@dataclass(frozen=True)
class Site:
    """An argument of a given type, in a document with a hole for its value."""

    document: str
    """With ``HOLE`` where the value goes."""
    argument: str
    type: str


SITES = {
    "CPR": Site("{ patient(cpr: HOLE) { cpr } }", "cpr", "CPR!"),
    "Date": Site(f"{{ patient(cpr: {HANS}) {{ appointments(from: HOLE) {{ complete }} }} }}", "from", "Date"),
    "Date (log)": Site(f"{{ patient(cpr: {HANS}) {{ accessLog(to: HOLE) {{ nodes {{ id }} }} }} }}", "to", "Date"),
    "Int": Site(f"{{ patient(cpr: {HANS}) {{ accessLog(first: HOLE) {{ nodes {{ id }} }} }} }}", "first", "Int!"),
    "Boolean": Site(f"{{ patient(cpr: {HANS}) @include(if: HOLE) {{ cpr }} }}", "if", "Boolean!"),
    "OverrideInput": Site(f"{{ patient(cpr: {HANS}, override: HOLE) {{ cpr }} }}", "override", "OverrideInput"),
    "AppointmentFilter": Site(
        f"{{ patient(cpr: {HANS}) {{ appointments(filter: HOLE) {{ complete }} }} }}", "filter", "AppointmentFilter"
    ),
}
REASON = "Patienten er bevidstløs"
BAD: dict[str, list[tuple[Any, str]]] = {
    "CPR": [("123", ""), (1403723705, ""), ("140372-3705", ""), (True, ""), (None, "")],
    "Date": [("2026-02-30", ""), ("9999-12-31", ""), ("1899-12-31", ""), (20260101, ""), ("x", "")],
    "Date (log)": [("2200-01-01", ""), ("0001-01-01", ""), ("", "")],
    "Int": [("x", ""), (1.5, ""), (2**31, ""), (True, ""), (None, "")],
    "Boolean": [("yes", ""), (1, ""), (None, "")],
    "OverrideInput": [
        ({"ground": Name("BECAUSE"), "reason": REASON}, ".ground"),
        ({"ground": Name("NOT_CONTACTABLE"), "reason": 5}, ".reason"),
        ({"reason": REASON}, ""),
        ({"ground": Name("NOT_CONTACTABLE"), "reason": REASON, "extra": 1}, ""),
        ("NOT_CONTACTABLE", ""),
    ],
    "AppointmentFilter": [
        ({"organisationKinds": [Name("REGION"), Name("MOON")]}, ".organisationKinds.1"),
        ({"includeCancelled": "yes"}, ".includeCancelled"),
        ({"statuses": Name("NOPE")}, ".statuses"),
    ],
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway without sources: input errors come before any decision."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'access.db'}", minlog=None, graphiql=False))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


CASES = [(name, value, path) for name, values in BAD.items() for value, path in values]


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(CASES), as_variable=st.booleans())
async def test_a_value_that_does_not_fit_its_type_is_bad_user_input_naming_where_it_went(
    client: httpx.AsyncClient, case: tuple[str, Any, str], as_variable: bool
) -> None:
    name, value, path = case
    site = SITES[name]
    if as_variable:
        document = f"query Q($v: {site.type}) " + site.document.replace("HOLE", "$v")
        body = await post(client, document, {"v": variable(value)})
        expected = f"$v{path}"
    else:
        body = await post(client, site.document.replace("HOLE", literal(value)))
        expected = f"{site.argument}{path}"

    assert body["data"] is None
    assert body["errors"], body
    for error in body["errors"]:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["argument"] == expected, error
        assert error.get("locations"), error
        assert "1403723705" not in error["message"]


@pytest.mark.parametrize(
    "document",
    [
        "query Q($c: CPR!, $unused: Int) { patient(cpr: $c) { cpr } }",
        "query Q { patient(cpr: $undefined) { cpr } }",
        "query Q($c: String!) { patient(cpr: $c) { cpr } }",
        "{ nope }",
        f"{{ patient(cpr: {HANS}) }}",
        f"{{ patient(cpr: {HANS}) {{ cpr(x: 1) }} }}",
    ],
    ids=[
        "unused-variable",
        "undefined-variable",
        "variable-of-another-type",
        "unknown-field",
        "no-selection",
        "unknown-argument",
    ],
)
async def test_a_document_that_is_not_valid_for_the_schema_is_a_validation_failure(
    client: httpx.AsyncClient, document: str
) -> None:
    body = await post(client, document, {"c": "1403723705"})

    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"] * len(body["errors"])
    assert all("argument" not in e["extensions"] for e in body["errors"])


async def test_a_missing_required_argument_is_bad_user_input_naming_it(client: httpx.AsyncClient) -> None:
    body = await post(client, "{ patient { cpr } }")

    (error,) = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["argument"]) == ("BAD_USER_INPUT", "cpr")
    assert error["locations"] == [{"line": 1, "column": 3}]


@pytest.mark.parametrize("fields", [800, 990])
async def test_many_same_named_fields_are_too_complex_with_a_limit(client: httpx.AsyncClient, fields: int) -> None:
    body = await post(client, "{ " + " ".join("__typename" for _ in range(fields)) + " }")

    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "maxFieldComparisons" and error["extensions"]["maximum"] > 0
    assert "aborted" not in error["message"]


def _date_inputs() -> list[tuple[str, GraphQLInputType]]:
    """Every argument and input field of the schema whose type is ``Date`` or ``DateTime`` (in lists,
    non-null or not)."""
    found: list[tuple[str, GraphQLInputType]] = []
    for type_ in SCHEMA.type_map.values():
        if type_.name.startswith("__"):
            continue
        if is_input_object_type(type_):
            found += [(f"{type_.name}.{n}", f.type) for n, f in type_.fields.items()]
        for field_name, field in (getattr(type_, "fields", None) or {}).items():
            found += [(f"{type_.name}.{field_name}({n}:)", a.type) for n, a in getattr(field, "args", {}).items()]
    return [(where, t) for where, t in found if get_named_type(t).name in ("Date", "DateTime")]


def test_every_date_the_schema_takes_is_range_checked() -> None:
    inputs = _date_inputs()

    assert {"Patient.accessLog(to:)", "Patient.appointments(from:)", "PeriodInput.end"} <= {w for w, _ in inputs}
    for where, type_ in inputs:
        plain = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        time = "T12:00:00Z" if get_named_type(plain).name == "DateTime" else ""
        assert _coercion_errors(f"2026-05-04{time}", plain) == [], where
        for outside in ("1899-12-31", "2200-01-01", "9999-12-31", "0001-01-01"):
            (error,) = _coercion_errors(f"{outside}{time}", plain)
            assert "1900-01-01 to 2199-12-31" in error, where


def _coercion_errors(value: str, type_: GraphQLInputType) -> list[str]:
    errors: list[str] = []
    validate_input_value(value, type_, lambda error, _path: errors.append(error.message))
    return errors


RELATIVE = {"givenName": "Inge", "lastName": "Test Jensen", "cpr": "1709683160"}


@pytest.mark.parametrize("as_variable", [True, False], ids=["variable", "literal"])
async def test_the_reported_relative_is_refused_by_its_place_and_type_never_by_its_values(
    client: httpx.AsyncClient, as_variable: bool
) -> None:
    """The verifier's case: an unknown field in a relative, as a variable and written in the document."""
    mutation = (
        'mutation($c: MasterCardChanges!) { updateMasterCard(cpr: "1403723705", version: "1", changes: $c) '
        "{ version } }"
    )
    if as_variable:
        body = await post(client, mutation, {"c": {"relatives": [RELATIVE]}})
        place = "$c.relatives.0"
    else:
        literal = 'relatives: [{givenName: "Inge", lastName: "Test Jensen", cpr: "1709683160"}]'
        body = await post(client, mutation.replace("($c: MasterCardChanges!)", "").replace("$c", f"{{{literal}}}"))
        place = "changes.relatives.0"

    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": place}
    assert "RelativeInput has no field by 2 names sent" in error["message"]
    for value in ("Inge", "Test Jensen", "1709683160", "lastName", "cpr"):
        assert value not in error["message"]
