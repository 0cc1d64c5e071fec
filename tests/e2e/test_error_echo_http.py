"""No error message repeats a value the caller sent, whatever position, depth, type or transport refuses it.

graphql-core and strawberry put the refused value in their messages ("… Found: {'firstName': 'Inge',
'lastName': 'Test Jensen', 'cpr': '1709683160'}.", "Int cannot represent …: 3011851412"); a value may
be a CPR number or a name (rule 5), so the gateway builds every message from the schema instead
(``gateway/input_errors.py``, ``gateway/echoes.py``). Here values that look like personal data (CPR
numbers with and without a hyphen, names, objects with such keys and values, lists of them) that do
not fit their type go into **every** place the schema takes a value (walked from the schema: every
argument and every input field inside one, at any depth, ``tests/schema_inputs.py``), as a variable
and as a literal, over ``application/json`` and ``application/graphql-response+json``, and by a trusted
document's id. No message, extension or log line of the request may hold a sent string of three
characters or more, the gateway's last check (which withholds such a message) must never have had to
act, and every error carries a code. Syntax errors are tried too: a value where the grammar wants
something else.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLInputField, GraphQLInputType, is_object_type
from graphql.utilities.validate_input_value import validate_input_value
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.echoes import schema_names
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, Gateway, Harness, gateway_with
from tests.e2e.log_scan import CPR, CapturedLog
from tests.schema_inputs import SCHEMA, Position, as_variable, document, literal, positions

EVERY_POSITION = list(positions())
POSITIONS = [p for p in EVERY_POSITION if p.reach.operation != "subscription"]
"""Over HTTP; a subscription's go over the WebSocket (``tests/e2e/test_error_echo_ws.py``)."""
NAMES = schema_names(SCHEMA)
CLIENT = "echo-system"
PERSONAL_NAMES = (
    "Inge Test Jensen",
    "Test Jensen",
    "Birthe Sørensen",
    "Mette Test Larsen",
    "Ruddi Berggren",
    "Aage Østergård",
    "Jørgen Kierkegaard",
)
PERSONAL_KEYS = ("lastName", "efternavn", "personnummer", "cpr", "adresse", "navn")
WITHHELD = "an error message held a value the request sent"


def cprs() -> st.SearchStrategy[str]:
    day = st.dates().map(lambda d: f"{d:%d%m%y}")
    plain = st.builds(lambda d, n: f"{d}{n:04d}", day, st.integers(0, 9999))
    return st.one_of(plain, plain.map(lambda c: f"{c[:6]}-{c[6:]}"))


def personal() -> st.SearchStrategy[Any]:
    """Strings that look like personal data, and numbers of ten digits."""
    words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), min_size=6)
    return st.one_of(cprs(), st.sampled_from(PERSONAL_NAMES), words, st.integers(3_000_000_000, 9_999_999_999))


def shapes() -> st.SearchStrategy[Any]:
    """Personal values, objects holding them (under keys that look like personal fields), and lists of both."""
    objects = st.dictionaries(st.sampled_from(PERSONAL_KEYS), personal(), min_size=1, max_size=3)
    flat = st.one_of(personal(), objects)
    return st.one_of(flat, st.lists(flat, min_size=1, max_size=3))


def refused(value: Any, type_: GraphQLInputType) -> bool:
    errors: list[str] = []
    validate_input_value(value, type_, lambda error, _path: errors.append(error.message))
    return bool(errors)


def sent_strings(value: Any) -> set[str]:
    """Every string and number in ``value`` (keys too) of three characters or more that is not a schema name."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
        elif isinstance(item, str | int) and not isinstance(item, bool):
            text = str(item).strip()
            if len(text) >= 3 and text.casefold() not in NAMES:
                found.add(text)
    return found


def manifest_documents() -> dict[str, str]:
    """One trusted document per position's argument, taking it as the variable ``$v``."""
    found = {}
    for position in POSITIONS:  # a subscription's trusted documents are tried over the WebSocket
        reach = position.reach
        last = len(reach.steps) - 1
        text = document(reach, {last: {position.argument: "$v"}}, {"v": str(position.argument_type)})
        found[f"{reach.coordinate}.{position.argument}"] = text
    return found


@pytest.fixture
async def echo(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Harness]:
    """The gateway, with a developer system (it gets hints) whose trusted documents take every argument."""
    manifest = tmp_path / "echo-documents.json"
    manifest.write_text(json.dumps(manifest_documents()), encoding="utf-8")
    objects = [name for name, kind in SCHEMA.type_map.items() if not name.startswith("__") and is_object_type(kind)]
    registration: dict[str, Any] = {
        "name": "Echo (test)",
        "fields": [f"{t}.*" for t in objects],
        "trusted_documents": str(manifest),
        "developer": True,
        "requests_per_window": 1_000_000,
    }
    async for running in gateway_with(sandbox, tmp_path, clients={CLIENT: registration}, rate_limit_requests=1_000_000):
        yield Harness(running)


def request_body(position: Position, value: Any, form: str) -> dict[str, Any]:
    """The request sending ``value`` at ``position``: written in the document (``literal``) or as ``$v``."""
    reach = position.reach
    last = len(reach.steps) - 1
    whole = position.planted(value)
    if form == "literal":
        return {"query": document(reach, {last: {position.argument: literal(whole)}}, {})}
    text = document(reach, {last: {position.argument: "$v"}}, {"v": str(position.argument_type)})
    return {"query": text, "variables": {"v": as_variable(whole)}}


async def answer(gateway: Gateway, position: Position, value: Any, form: str, transport: str) -> dict[str, Any]:
    """The body of the answer to ``value`` sent at ``position`` (``form``: ``variable`` or ``literal``) over
    ``transport`` (``json``, ``graphql-response`` or ``trusted``: by a trusted document's id)."""
    body = request_body(position, value, form)
    accept = "application/graphql-response+json" if transport == "graphql-response" else "application/json"
    token = gateway.citizen(HANS)
    if transport == "trusted":
        token = gateway.token(actor_kind="system", client_id=CLIENT, authorization_id=DOCTOR_WITH_RELATIONS)
        body = {"documentId": f"{position.reach.coordinate}.{position.argument}", "variables": body["variables"]}
    headers = {"authorization": f"Bearer {token}", "accept": accept}
    response = await gateway.client.post("/graphql", json=body, headers=headers)
    assert response.status_code < 500, response.text
    answered: dict[str, Any] = response.json()
    return answered


def assert_nothing_echoed(answer: dict[str, Any], sent: set[str], lines: list[str]) -> None:
    errors = answer.get("errors") or []
    assert errors, "a value that does not fit its place is refused"
    for error in errors:
        assert error["extensions"]["code"], error
        said = (error["message"] + " " + json.dumps(error["extensions"], ensure_ascii=False)).casefold()
        assert not [s for s in sent if s.casefold() in said], error["message"]
        assert not CPR.search(said), error["message"]
    for line in lines:
        assert WITHHELD not in line, "every message was made without the value; the last check never acts"
        assert not [s for s in sent if s.casefold() in line.casefold()], line


PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # each example is a real request; no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def misfits(among: list[Position]) -> st.SearchStrategy[tuple[Position, Any]]:
    """A position of ``among``, and a value that does not fit its type."""
    return st.sampled_from(among).flatmap(
        lambda p: st.tuples(st.just(p), shapes().filter(lambda v: refused(as_variable(v), p.type)))
    )


@PROPERTY
@given(
    case=misfits(POSITIONS),
    form=st.sampled_from(["variable", "literal"]),
    transport=st.sampled_from(["json", "graphql-response", "trusted"]),
)
async def test_a_value_that_does_not_fit_is_never_repeated_in_an_error_or_a_log(
    echo: Harness, log_scan: CapturedLog, case: tuple[Position, Any], form: str, transport: str
) -> None:
    position, value = case
    if transport == "trusted":
        form = "variable"  # a trusted document's literals are the manifest's, checked at start
    seen = len(log_scan.lines)

    body = await answer(echo.gateway, position, value, form, transport)

    assert_nothing_echoed(body, sent_strings(value), log_scan.lines[seen:])


def test_every_place_the_schema_takes_a_value_is_tried() -> None:
    """The walk reaches every argument and every input field of the schema: none is left out of the property."""
    walked = {id(p.holder) for p in EVERY_POSITION}
    fields = [
        (f"{name}.{field_name}", field)
        for name, type_ in SCHEMA.type_map.items()
        if not name.startswith("__")
        for field_name, field in (getattr(type_, "fields", None) or {}).items()
    ]
    arguments = [(f"{where}({name}:)", a) for where, field in fields for name, a in getattr(field, "args", {}).items()]
    input_fields = [(where, field) for where, field in fields if isinstance(field, GraphQLInputField)]

    assert [where for where, holder in [*arguments, *input_fields] if id(holder) not in walked] == []
    assert len(arguments) >= 10 and len(input_fields) >= 20


@pytest.mark.parametrize(
    "query",
    [
        '{ patient(cpr: "1403723705") { cpr "Inge Test Jensen" } }',
        "{ patient(cpr: 1403723705 { cpr } }",
        '{ patient(cpr: "1403723705") { cpr } } "Birthe Sørensen"',
        '{ patient(cpr: "1403723705"", override: {reason: "Aage Østergård"}) { cpr } }',
        '{ patient(cpr: "14037\\x23705") { cpr } }',
        '{ patient(cpr: "1403723705) { cpr } }',
        "{ patient(cpr: 1403723705.5e) { cpr } }",
    ],
    ids=[
        "string-for-a-field",
        "missing-paren",
        "trailing-string",
        "unbalanced-quote",
        "bad-escape",
        "open-string",
        "bad-number",
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_a_syntax_error_is_told_by_token_kinds_never_by_the_text(
    gateway: Gateway, log_scan: CapturedLog, query: str, accept: str
) -> None:
    seen = len(log_scan.lines)
    headers = {"authorization": f"Bearer {gateway.citizen(HANS)}", "accept": accept}

    response = await gateway.client.post("/graphql", json={"query": query}, headers=headers)

    (error,) = response.json()["errors"]
    assert error["message"].startswith("Syntax Error")
    assert error["locations"]
    sent = set(re.findall(r'"([^"]{3,})"', query)) | set(re.findall(r"[0-9]{6,}", query))
    assert_nothing_echoed(response.json(), sent, log_scan.lines[seen:])
