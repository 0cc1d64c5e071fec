"""Messages made without the caller's values: syntax errors by token kinds, and the last check on a message."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLSyntaxError, parse

from gateway.echoes import SentValues, schema_names, syntax_message, withheld_echo
from gateway.errors import ErrorCode
from gateway.schema import build_schema


def syntax_error(query: str) -> GraphQLSyntaxError:
    with pytest.raises(GraphQLSyntaxError) as raised:
        parse(query)
    return raised.value


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ patient(cpr: "1") { cpr "Inge Jensen" } }', "Syntax Error: Expected Name, found String."),
        ('{ patient(cpr: "1") { cpr } } "Inge"', "Syntax Error: Unexpected <EOF>."),  # a description of nothing
        ("{ patient(cpr: 1403723705 { cpr } }", "Syntax Error: Expected Name, found '{'."),
        ('{ patient(cpr: "1403723705) { cpr } }', "Syntax Error: Unterminated string."),
    ],
)
def test_a_syntax_error_names_token_kinds_and_what_the_grammar_expected(query: str, message: str) -> None:
    assert syntax_message(syntax_error(query)) == message


def test_a_token_that_cannot_be_read_is_told_so_without_its_text() -> None:
    message = syntax_message(syntax_error('{ patient(cpr: "14037\\x23705") { cpr } }'))

    assert message.startswith("Syntax Error: a token here cannot be read")
    assert "14037" not in message


def test_a_sent_value_is_found_as_a_word_not_inside_a_longer_one() -> None:
    sent = SentValues.of(
        '{ patient(cpr: "1403723705", override: {reason: "a b"}) { cpr } }', {"n": "Inge"}, frozenset()
    )

    assert sent.echoed_in("found 1403723705.")
    assert sent.echoed_in("Found: {'firstName': 'inge'}")
    assert not sent.echoed_in("must be a block's id")
    assert not sent.echoed_in("Ingeborg")


def test_schema_names_and_short_strings_are_not_looked_for() -> None:
    sent = SentValues.of(None, {"kind": "DATA_PERIOD", "x": "da"}, frozenset({"data_period", "kind"}))

    assert not sent.echoed_in("belongs to a block of kind ORGANISATION or DATA_PERIOD; da")


def test_a_message_holding_a_sent_value_is_withheld_and_the_log_says_so_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = SentValues.of(None, {"v": "Inge Test Jensen"}, frozenset())

    with caplog.at_level(logging.WARNING, "patientoverblik.errors"):
        message = withheld_echo("Found: Inge Test Jensen.", sent, ErrorCode.BAD_USER_INPUT)

    assert "Inge" not in message
    assert caplog.records and all("Inge" not in r.getMessage() for r in caplog.records)
    assert withheld_echo("Expected Date.", sent, ErrorCode.BAD_USER_INPUT) == "Expected Date."


def test_the_schemas_own_numbers_and_dates_are_not_looked_for() -> None:
    words = schema_names(build_schema()._schema)
    sent = SentValues.of(None, {"first": 100, "from": "1900-01-01", "cpr": "1403723705"}, words)

    assert not sent.echoed_in("Argument 'first' of Appointments.list must be 1 to 100.")
    assert not sent.echoed_in("Variable '$d': expected Date, a date lies in 1900-01-01 to 2199-12-31.")
    assert sent.echoed_in("found 1403723705")
