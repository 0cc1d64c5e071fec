"""Error messages that never repeat what the caller sent: syntax errors told by token kinds, and a last check.

Non-negotiable 5: a value a caller sends may be a CPR number or a name, and no error message may
hold one. The gateway builds its messages so that they cannot: a value that does not fit its type is
told by its place and type (:mod:`gateway.input_errors`), an argument out of its bounds by the bound
(:mod:`gateway.arguments`), and a syntax error here by the *kinds* of token: graphql-core's
"Syntax Error: Unexpected String '1403723705'." becomes "Syntax Error: Unexpected String." and its
"Expected Name, found Int '…'" keeps what the grammar expected, which is never the caller's text.

:func:`withheld_echo` is the last check, in case a message of some other making slips through: a
message that holds a string the request sent (three characters or more, in a variable or written in
the document, the schema's own words excepted: its names, and the numbers and dates of its bounds) is
replaced by a fixed text, and the gateway logs that it did so, without the message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from graphql import GraphQLSchema, GraphQLSyntaxError, Lexer, Source, TokenKind

if TYPE_CHECKING:
    from gateway.errors import ErrorCode

logger = logging.getLogger("patientoverblik.errors")

MIN_ECHO = 3
"""Sent strings shorter than this are not looked for (``"1"`` or ``"da"`` are in many messages)."""
_EXPECTED: Final = re.compile(r"Expected ([A-Za-z<>]+|'[^'\s]{1,12}'), found ")
"""graphql-core's "Expected <token kind or keyword>, found <token>": what the grammar expected."""
_READ_FAILED: Final = (
    "Syntax Error: a token here cannot be read (an unterminated string, an escape sequence or number that is "
    "malformed, or a character GraphQL does not allow)."
)
_VALUE_FREE_SYNTAX: Final = frozenset({"Document is nested too deeply. Parsing aborted.", "Unterminated string."})
"""graphql-core's syntax error descriptions that hold nothing of the document, passed on as they are."""


def syntax_message(error: GraphQLSyntaxError) -> str:
    """The message for a syntax error: the kind of token found where the parser stopped, and what the
    grammar expected there when graphql-core said; ``locations`` still point at the place."""
    description = getattr(error, "description", "")
    if description in _VALUE_FREE_SYNTAX:
        return f"Syntax Error: {description}"
    found = _token_kind_at(error.source, next(iter(error.positions or ()), None))
    if found is None:
        return _READ_FAILED
    expected = _EXPECTED.match(description)
    if expected is not None:
        return f"Syntax Error: Expected {expected.group(1)}, found {found}."
    return f"Syntax Error: Unexpected {found}."


def _token_kind_at(source: Source | None, position: int | None) -> str | None:
    """The kind of the token that starts at ``position`` (``Name``, ``String``, ``'{'``), or ``None``
    when the document cannot be read as tokens up to there."""
    if source is None or position is None:
        return None
    lexer = Lexer(source)
    try:
        token = lexer.token
        while token.kind is not TokenKind.EOF and token.start < position:
            token = lexer.advance()
    except GraphQLSyntaxError:
        return None
    if token.start != position:
        return None
    kind = token.kind.value
    return kind if token.kind in _WORD_KINDS else f"'{kind}'"


_WORD_KINDS: Final = frozenset(
    {
        TokenKind.EOF,
        TokenKind.NAME,
        TokenKind.INT,
        TokenKind.FLOAT,
        TokenKind.STRING,
        TokenKind.BLOCK_STRING,
        TokenKind.COMMENT,
    }
)


@dataclass(frozen=True)
class SentValues:
    """The strings one request sent: in its variables (values and keys, numbers written out) and as
    string and number literals in its document, each at least :data:`MIN_ECHO` characters, case-folded,
    schema names left out. Indexed by their first characters, so looking through a message costs its
    length, not the number of values."""

    by_start: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, query: str | None, variables: Mapping[str, Any] | None, names: frozenset[str]) -> SentValues:
        found: set[str] = set(_strings(variables or {}))
        if query:
            found.update(_literals(query))
        index: dict[str, set[str]] = {}
        for value in found:
            text = value.strip().casefold()
            if len(text) >= MIN_ECHO and text not in names:
                index.setdefault(text[:MIN_ECHO], set()).add(text)
        return cls({start: frozenset(values) for start, values in index.items()})

    def echoed_in(self, message: str) -> bool:
        """Whether ``message`` holds one of the values, not as part of a longer word (the value ``"a b"``
        is not echoed by "a block"; every message that repeats a value sets it apart)."""
        if not self.by_start:
            return False
        text = message.casefold()
        for at in range(len(text) - MIN_ECHO + 1):
            for value in self.by_start.get(text[at : at + MIN_ECHO], ()):
                end = at + len(value)
                if text.startswith(value, at) and _apart(text, at - 1, value[0]) and _apart(text, end, value[-1]):
                    return True
        return False


def _apart(text: str, at: int, edge: str) -> bool:
    """Whether the character at ``at`` (next to a value's ``edge`` character) does not run on a word."""
    return not (edge.isalnum() and 0 <= at < len(text) and text[at].isalnum())


NOTHING_SENT: Final = SentValues()


def _strings(value: Any) -> Iterable[str]:
    """Every string and number in a JSON value, keys included; iterative (the body nests 32 deep at most)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, str):
            yield item
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)


def _literals(query: str) -> list[str]:
    """The string and number literals of a document, read as tokens up to the first one that cannot be
    read (a document with a syntax error has them too)."""
    found: list[str] = []
    lexer = Lexer(Source(query))
    try:
        token = lexer.advance()
        while token.kind is not TokenKind.EOF:
            if token.kind in _LITERAL_KINDS and token.value is not None:
                found.append(token.value)
            token = lexer.advance()
    except GraphQLSyntaxError:
        pass  # what was read so far is looked for; the rest never reaches a message whole
    return found


_LITERAL_KINDS: Final = frozenset({TokenKind.STRING, TokenKind.BLOCK_STRING, TokenKind.INT, TokenKind.FLOAT})


def schema_names(schema: GraphQLSchema) -> frozenset[str]:
    """The schema's own words, case-folded: every name (types, fields, arguments, enum values, the meta
    fields) and every number, date or capitalised term its descriptions give (the bounds: ``100``,
    ``1900-01-01``, ``ADRESSEBESKYTTET``). A value the caller sent that is one of them is no personal
    datum, and messages say them: "must be 1 to 100" repeats no one's ``100``."""
    words: set[str] = {"__typename", "__schema", "__type"}
    for type_ in schema.type_map.values():
        words.add(type_.name)
        words.update(_numbers(type_.description))
        for name, member in (getattr(type_, "fields", None) or getattr(type_, "values", None) or {}).items():
            words.add(name)
            words.update(_numbers(getattr(member, "description", None)))
            for argument_name, argument in (getattr(member, "args", None) or {}).items():
                words.add(argument_name)
                words.update(_numbers(argument.description))
    for directive in schema.directives:
        words.update(_numbers(directive.description))
    return frozenset(word.casefold() for word in words)


def _numbers(description: str | None) -> list[str]:
    """The words of ``description`` that hold a digit or are in capitals (numbers, dates, codes, terms such as
    ``ADRESSEBESKYTTET``), without surrounding punctuation; never a name as people write theirs."""
    return [word for word in _WORD.findall(description or "") if any(c.isdigit() for c in word) or word.isupper()]


_WORD: Final = re.compile(r"[\w^+-]+(?:[.:][\w^+-]+)*")


_WITHHELD: Final = (
    "The request could not be served as sent; extensions.code says why (the message held a value you sent, "
    "so it is not shown)."
)


def withheld_echo(message: str, sent: SentValues, code: ErrorCode) -> str:
    """``message``, unless it holds a value of ``sent``: then a fixed text, and a log line saying so."""
    if not sent.echoed_in(message):
        return message
    logger.warning("an error message held a value the request sent; a fixed text went instead", extra={"code": code})
    return _WITHHELD
