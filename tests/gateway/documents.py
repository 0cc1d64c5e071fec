"""Documents that cost the most per byte, for the tests that count work (visits), never time."""

from __future__ import annotations

from graphql import DocumentNode, SelectionSetNode, visit
from graphql.language import Visitor

HANS = "1403723705"


def fan_out(levels: int, leaf: str = "__typename", on: str = "Query", root: str = "{ ...F0 }") -> str:
    """``root`` spreading ``F0``; each fragment spreads the next twice, so paths double per level."""
    chain = [f"fragment F{n} on {on} {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)]
    return " ".join([root, *chain, f"fragment F{levels} on {on} {{ {leaf} }}"])


def selections(document: DocumentNode) -> int:
    """How many selections the document holds (fields, fragment spreads, inline fragments), each once."""

    class Count(Visitor):
        found = 0

        def enter_selection_set(self, node: SelectionSetNode, *_: object) -> None:
            Count.found += len(node.selections)

    visit(document, Count())
    return Count.found


WORST_CASES = {
    "fragment fan-out": fan_out(18),
    "fragment fan-out in a patient": fan_out(
        16, "person { name }", "Patient", f'{{ patient(cpr: "{HANS}") {{ ...F0 }} }}'
    ),
    "aliased fan-out": fan_out(17, "a: __typename"),
    "fragment fan-out in two ranges": fan_out(
        15,
        "days(includeEmptyDays: true) { date }",
        "Appointments",
        f'{{ patient(cpr: "{HANS}") {{ a: appointments {{ ...F0 }} b: appointments(to: "2199-01-01") {{ ...F0 }} }} }}',
    ),
    "deep introspection": "{ __schema { types { " + "fields { type { " * 14 + "name" + " } }" * 14 + " } } }",
    "deep nesting": "{ " + "__typename(a: " + "[" * 190 + "]" * 190 + ") }",
    "deep input object": f'{{ patient(cpr: "{HANS}", override: ' + "{a: " * 90 + "1" + "}" * 90 + ") { cpr } }",
    "many aliases": "{ " + " ".join(f"a{n}: __typename" for n in range(55)) + " }",
    "many same fields": "{ " + "__typename " * 90 + "}",
    "many same short fields": f'{{ patient(cpr: "{HANS}") {{ person {{ ' + "name " * 185 + "} } }",
    "many directives": "{ __typename" + " @skip(if: false)" * 55 + " }",
    "long variable list": "query(" + " ".join(f"$v{n}: Int" for n in range(90)) + ") { __typename }",
    "many patients": "{ " + " ".join(f'p{n}: patient(cpr: "{HANS}") {{ cpr }}' for n in range(24)) + " }",
    "many operations": " ".join(f"query Q{n} {{ __typename }}" for n in range(40)),
}
"""Documents under 1 KB built to make a walk over them as long as possible."""
