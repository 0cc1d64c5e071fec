"""No request under 1 KB makes the gateway work long: every walk over the worst documents is counted.

The counters: the limit rule's visits (:func:`gateway.limits.measure`), the consent gate's reader visits,
the nodes graphql-core's validation visits, and its field-pair comparisons (OverlappingFieldsCanBeMerged,
the one quadratic rule, bounded by the token limit). Work is counted, never timed.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from graphql import DocumentNode, ParallelVisitor, specified_rules, visit
from graphql.language import Visitor

from auth.operation import OperationReader, PreparedOperation, prepare_operation
from gateway.arguments import ArgumentWalk
from gateway.limits import Limits, measure, operation_limits_rule, parse_document
from gateway.schema import build_schema
from gateway.validation import REPLACED_RULES
from tests.gateway.documents import WORST_CASES, selections

SCHEMA = build_schema()._schema
LIMITS = Limits()
RULES = [
    *(REPLACED_RULES.get(rule, rule) for rule in specified_rules),
    operation_limits_rule(LIMITS.max_depth, LIMITS.max_aliases),
]
VALIDATION = importlib.import_module("graphql.validation.validate")
CONTEXT = importlib.import_module("graphql.validation.validation_context")
OVERLAP = importlib.import_module("graphql.validation.rules.overlapping_fields_can_be_merged")


class Counter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter(self, *_: Any) -> None:
        self.count += 1


def nodes(document: DocumentNode) -> int:
    counter = Counter()
    visit(document, counter)
    return counter.count


@pytest.fixture
def validation_work(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts every node graphql-core's validation visits and every field pair it compares."""
    work = {"visits": 0, "comparisons": 0}
    counter = Counter()

    def counted_visit(root: Any, visitor: Any, *args: Any, **kwargs: Any) -> Any:
        result = visit(root, ParallelVisitor([visitor, counter]), *args, **kwargs)
        work["visits"] = counter.count
        return result

    compare = OVERLAP.find_conflict

    def counted_compare(*args: Any, **kwargs: Any) -> Any:
        work["comparisons"] += 1
        return compare(*args, **kwargs)

    monkeypatch.setattr(VALIDATION, "visit", counted_visit)
    monkeypatch.setattr(CONTEXT, "visit", counted_visit)
    monkeypatch.setattr(OVERLAP, "find_conflict", counted_compare)
    yield work


@pytest.mark.parametrize("name", list(WORST_CASES))
def test_every_walk_over_a_small_document_is_bounded(name: str, validation_work: dict[str, int]) -> None:
    text = WORST_CASES[name]
    assert len(text.encode()) < 1024
    document = parse_document(text, LIMITS.max_tokens)
    size = nodes(document)

    _, walk = measure(document)
    VALIDATION.validate(SCHEMA, document, RULES)

    assert walk.visits <= selections(document)
    assert validation_work["visits"] <= 4 * size
    assert validation_work["comparisons"] <= 20_000  # at most ~200 same-named fields fit in 1 KB
    prepared = prepare_operation(SCHEMA, document, "Q1" if name == "many operations" else None, {})
    if isinstance(prepared, PreparedOperation):
        reader = OperationReader(SCHEMA, prepared)
        reader.read()
        assert reader.visits <= selections(document)
        arguments = ArgumentWalk(SCHEMA, prepared, date(2026, 5, 4))
        arguments.run()
        # once per date range a fragment is spread under: two fields of one name need an alias
        assert arguments.visits <= selections(document) * (1 + arguments.ranges)
        assert arguments.ranges <= LIMITS.max_aliases
