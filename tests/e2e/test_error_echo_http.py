"""A rejected value is never echoed in an error message, whatever position or shape rejects it.

graphql-core and strawberry put the rejected value in their messages ("Int cannot represent non
32-bit signed integer value: 3011851412", "… found: { reason: "…" }", "Value '…' does not exist in
'OverrideGround' enum.", "Syntax Error: Unexpected String '…'."); a value may be a CPR number or a
name, so the gateway drops it (``gateway/errors.py``, rule 5). Generated values (CPR numbers, with and
without a hyphen, names, large numbers) go into every position that rejects a value, as a literal and
as a variable; no message may hold the value (or its digits), and every error carries a code.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import HANS, Gateway

PATIENT = f'patient(cpr: "{HANS}"'
REASON = '"Bevidstløs ved indlæggelse"'
LITERAL_TEMPLATES = (
    PATIENT + ") {{ appointments(from: {v}) {{ complete }} }}",
    PATIENT + ") {{ appointments {{ list(first: {v}) {{ totalCount }} }} }}",
    PATIENT + ") {{ appointments(filter: {{includeCancelled: {v}}}) {{ complete }} }}",
    PATIENT + ", override: {{ground: {v}, reason: " + REASON + "}}) {{ cpr }}",
    PATIENT + ", override: {{ground: NOT_CONTACTABLE, reason: {v}, extra: {v}}}) {{ cpr }}",
    PATIENT + ", override: {{reason: {v}}}) {{ cpr }}",
    PATIENT + ", override: {v}) {{ cpr }}",
    "patient(cpr: [{v}]) {{ cpr }}",
    PATIENT + ") {{ cpr {v} }}",
)
"""Query bodies with a literal ``{v}``: a Date, an Int, a Boolean, an enum, an unknown and a missing
input field, an input object, a CPR, and a token where a field name belongs (a syntax error)."""
VARIABLE_TEMPLATES = (
    ("Date", PATIENT + ") { appointments(from: $v) { complete } }"),
    ("Int", PATIENT + ") { appointments { list(first: $v) { totalCount } } }"),
    ("CPR!", "patient(cpr: $v) { cpr }"),
    ("OverrideInput", PATIENT + ", override: $v) { cpr }"),
)
"""Query bodies with a variable ``$v`` of the given type."""


def values() -> st.SearchStrategy[str | int]:
    """CPR numbers (plain, hyphenated), names, and numbers too large for an Int."""
    day = st.dates().map(lambda d: f"{d:%d%m%y}")
    cpr = st.builds(lambda d, n: f"{d}{n:04d}", day, st.integers(0, 9999))
    names = st.sampled_from(["Hans Test Jensen", "Birthe Test Sørensen", "Ruddi Test Berggren"])
    return st.one_of(
        cpr,
        cpr.map(lambda c: f"{c[:6]}-{c[6:]}"),
        names,
        st.integers(2**31, 10**10 - 1),
        st.integers(-(10**10) + 1, -(2**31) - 1),
    )


def variable_values(value: str | int) -> st.SearchStrategy[Any]:
    """``value`` as a variable's whole value or inside an input object where it does not fit."""
    return st.sampled_from(
        [
            value,
            [value],
            {"ground": value, "reason": "Bevidstløs ved indlæggelse"},
            {"ground": "NOT_CONTACTABLE", "reason": "Bevidstløs ved indlæggelse", "extra": value},
            {"reason": value},
        ]
    )


def leaked(value: str | int, text: str) -> bool:
    """Whether ``text`` holds ``value``, or its digits when it is a number."""
    digits = re.sub(r"[^0-9]", "", str(value))
    return str(value).lstrip("-") in text or (len(digits) >= 6 and digits in re.sub(r"[^0-9]", "", text))


async def assert_not_echoed(gateway: Gateway, value: str | int, payload: dict[str, Any]) -> None:
    response = await gateway.client.post(
        "/graphql", json=payload, headers={"authorization": f"Bearer {gateway.citizen(HANS)}"}
    )
    assert response.status_code < 500
    errors = response.json()["errors"]
    assert errors, "a value in the wrong place is refused"
    for error in errors:
        assert error["extensions"]["code"]
        assert not leaked(value, error["message"] + json.dumps(error["extensions"])), error["message"]


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values(), template=st.sampled_from(LITERAL_TEMPLATES))
async def test_a_literal_in_a_place_that_rejects_it_is_not_echoed(
    gateway: Gateway, value: str | int, template: str
) -> None:
    query = "{ " + template.format(v=json.dumps(value, ensure_ascii=False)) + " }"
    await assert_not_echoed(gateway, value, {"query": query})


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values(), template=st.sampled_from(VARIABLE_TEMPLATES), data=st.data())
async def test_a_variable_that_does_not_fit_its_type_is_not_echoed(
    gateway: Gateway, value: str | int, template: tuple[str, str], data: st.DataObject
) -> None:
    kind, body = template
    variable = data.draw(variable_values(value))
    if kind == "CPR!" and variable == value and isinstance(value, str):
        variable = value + "0"  # a well-formed CPR number would be accepted
    query = f"query Q($v: {kind}) {{ {body} }}"
    await assert_not_echoed(gateway, value, {"query": query, "variables": {"v": variable}})
