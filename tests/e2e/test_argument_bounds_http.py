"""An argument out of its bounds runs nothing: no source is asked, no access is recorded, for every bound.

Hans asked ``patient { appointments { list(first: 0) } }``: every appointment source was asked first and
his Min Log said "Du så dine aftaler", because ``first`` was checked by its resolver, after its parent
had fetched. Every bound is now declared beside what it bounds (``resolvers/bounds.py``) and checked
before anything is decided or fetched (``gateway/arguments.py``). Here every bound of the schema,
found by walking it (``@constraint`` on arguments and input fields at any depth, ``@dateRange`` on
fields and input types, ``@everyDay``, an input type's own rule), gets generated values outside it,
sent by Hans about himself with every other argument valid; the answer must be ``BAD_USER_INPUT``
naming the argument, with no data, no upstream request of any source, no access record and no
security event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    coerce_input_value,
    get_named_type,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from resolvers.bounds import Constraint, DateRange, EveryDay, Refusal, years_before
from sandbox.server import SOURCE_APPS
from tests.e2e.conftest import HANS, Gateway, Harness, recorded
from tests.schema_inputs import (
    FORMAT_EXAMPLES,
    INPUT_EXAMPLES,
    SCHEMA,
    Name,
    Position,
    Reach,
    as_variable,
    declared,
    definition,
    document,
    every_day_fields,
    example,
    has_rule,
    positions,
    range_fields,
    today,
)


class InputRule:
    """Stands for an input type's own rule (``refusals``) in :class:`Bound`."""


@dataclass(frozen=True)
class Bound:
    """One bound of the schema: the field whose arguments it bounds, the bound, and the position of the value
    it bounds (``None`` for a bound on the field's own arguments)."""

    reach: Reach
    bound: Constraint | DateRange | EveryDay | InputRule
    position: Position | None

    def __repr__(self) -> str:
        where = self.position.name if self.position else "(arguments)"
        return f"<{type(self.bound).__name__} on {self.reach.coordinate} {where}>"


def bounds() -> Iterator[Bound]:
    """Every bound the schema declares, where a request can reach it."""
    for position in positions():
        for constraint in declared(position.holder, Constraint):
            yield Bound(position.reach, constraint, position)
        named = get_named_type(position.type)
        if isinstance(named, GraphQLInputObjectType) and not _is_list(position.type):
            for rule in declared(named, DateRange):
                yield Bound(position.reach, rule, position)
            if has_rule(named):
                yield Bound(position.reach, InputRule(), position)
    for reach, rule in range_fields():
        yield Bound(reach, rule, None)
    for reach, every in every_day_fields():
        yield Bound(reach, every, None)


def _is_list(type_: Any) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


EVERY_BOUND = list(bounds())
BOUNDS = [b for b in EVERY_BOUND if b.reach.operation != "subscription"]
"""Over HTTP: a subscription runs over the WebSocket (none of its arguments has a bound yet: a test says so)."""


@dataclass(frozen=True)
class Request:
    """A request with one value out of bounds, and the argument an error must name (or start with)."""

    arguments: dict[int, dict[str, str]]
    """Argument texts by step of the reach (``$name`` for variables)."""
    variables: dict[str, Any]
    types: dict[str, str]
    named: tuple[str, ...]


def days() -> st.SearchStrategy[int]:
    return st.integers(1, 400)


@st.composite
def outside(draw: st.DrawFn, bound: Bound) -> Request:
    """Values outside ``bound``, everything else valid."""
    reach, rule, position = bound.reach, bound.bound, bound.position
    last = len(reach.steps) - 1
    if position is not None:
        value = draw(_value_outside(rule, position))
        types = {"v": str(position.argument_type)}
        named = (position.name,)
        return Request({last: {position.argument: "$v"}}, {"v": as_variable(position.planted(value))}, types, named)
    if isinstance(rule, DateRange):
        ends = dict(zip(("a", "b"), draw(_range_outside(rule)), strict=True))
        names = {var: name for var, name in (("a", rule.start), ("b", rule.end)) if isinstance(name, str)}
        texts = {name: f"${var}" for var, name in names.items()}
        dates = {var: str(ends[var]) if ends[var] is not None else None for var in names}
        return Request({last: texts}, dates, dict.fromkeys(names, "Date"), tuple(texts))
    assert isinstance(rule, EveryDay)
    step, enclosing = next((i, r) for i, (p, n) in enumerate(reach.steps) for r in declared(p.fields[n], DateRange))
    first = today()
    span = draw(st.integers(rule.max_days, min(rule.max_days + 400, _int(enclosing.max_days) or 10_000)))
    arguments = {step: {enclosing.start: "$a", enclosing.end: "$b"}, last: {rule.argument: "$v"}}
    variables: dict[str, Any] = {"a": str(first), "b": str(first + timedelta(days=span)), "v": True}
    return Request(arguments, variables, {"a": "Date", "b": "Date", "v": "Boolean!"}, (rule.argument,))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _value_outside(rule: Any, position: Position) -> st.SearchStrategy[Any]:
    if isinstance(rule, Constraint):
        return _constraint_outside(rule, position)
    if isinstance(rule, DateRange):
        return _range_outside(rule).map(lambda ends: _with_range(position, rule, *ends))
    assert isinstance(rule, InputRule)
    named = get_named_type(position.type)
    assert isinstance(named, GraphQLInputObjectType)
    origin = definition(named).origin
    values: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in named.fields.items():
        inner = get_named_type(field.type)
        values[name] = (
            st.sampled_from([Name(v) for v in inner.values])
            if isinstance(inner, GraphQLEnumType)
            else (st.just(example(field.type, field)))
        )
    required = [n for n in values if isinstance(named.fields[n].type, GraphQLNonNull)]
    optional = st.lists(st.sampled_from([n for n in values if n not in required]), unique=True)

    def broken(value: dict[str, Any]) -> bool:
        coerced = coerce_input_value(as_variable(value), named)
        return bool(list(origin.refusals(coerced, today())))

    chosen = optional.flatmap(lambda names: st.fixed_dictionaries({n: values[n] for n in [*required, *names]}))
    return chosen.filter(broken)


def _constraint_outside(rule: Constraint, position: Position) -> st.SearchStrategy[Any]:
    choices: list[st.SearchStrategy[Any]] = []
    low, high = _int(rule.min), _int(rule.max)
    if low is not None:
        choices.append(st.integers(-(2**31), low - 1))
    if high is not None:
        choices.append(st.integers(high + 1, 2**31 - 1))
    if (length := _int(rule.max_length)) is not None:
        letters = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=length + 1, max_size=length + 40)
        choices.append(letters)
    if (items := _int(rule.max_items)) is not None:
        item = example(position.type)[0]
        choices.append(st.integers(items + 1, items + 5).map(lambda n: [item] * n))
    if rule.checked_format is not None:
        form = rule.checked_format
        texts = st.one_of(st.text(max_size=30), st.sampled_from(["1403723705", "Inge Test Jensen", "x", " ", "\n"]))
        bad = texts.filter(lambda text: not form.accepts(text))
        choices.append(bad.map(lambda text: [text] if _is_list(position.type) else text))
    assert choices, f"{rule} bounds nothing"
    return st.one_of(choices)


def _range_outside(rule: DateRange) -> st.SearchStrategy[tuple[date | None, date | None]]:
    day = today()
    choices: list[st.SearchStrategy[tuple[date | None, date | None]]] = []
    if isinstance(rule.start, str):
        choices.append(days().map(lambda n: (day, day - timedelta(days=n))))  # backwards
    if (most := _int(rule.max_days)) is not None:
        choices.append(days().map(lambda n: (day, day + timedelta(days=most + n))))
    if (years := _int(rule.years_back)) is not None:
        oldest = years_before(day, years) - timedelta(days=1)
        choices.append(days().map(lambda n: (oldest - timedelta(days=n), None)))
    if rule.end_not_past is True:
        choices.append(days().map(lambda n: (None, day - timedelta(days=n))))
    return st.one_of(choices)


def _with_range(position: Position, rule: DateRange, start: date | None, end: date | None) -> Any:
    value = example(position.type)
    if isinstance(rule.start, str):
        value[rule.start] = str(start) if start is not None else None
    value[rule.end] = str(end) if end is not None else None
    return value


@pytest.fixture
def harness(gateway: Gateway) -> Harness:
    return Harness(gateway)


PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # each example is real requests; no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PROPERTY
@given(case=st.sampled_from(BOUNDS).flatmap(lambda bound: st.tuples(st.just(bound), outside(bound))))
async def test_a_value_out_of_bounds_asks_no_source_and_records_nothing(
    harness: Harness, case: tuple[Bound, Request]
) -> None:
    gateway, (bound, request) = harness.gateway, case
    query = document(bound.reach, request.arguments, request.types)
    records = len(await gateway.access_log.for_patient(HANS, limit=1000))
    events = len(await gateway.access_log.security_events(1000))
    for name in SOURCE_APPS:
        gateway.sandbox.control(name).recorder.clear()

    body = await gateway.graphql(query, gateway.citizen(HANS), **request.variables)

    assert body.get("data") is None, body
    assert body["errors"] and {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}, body
    named = [str(e["extensions"].get("argument", "")) for e in body["errors"]]
    assert any(n.startswith(request.named) for n in named), (named, request.named)
    asked = {name: recorded(gateway.sandbox, name) for name in SOURCE_APPS if name != "minlog"}  # export runs apart
    assert asked == dict.fromkeys(asked, 0)
    assert len(await gateway.access_log.for_patient(HANS, limit=1000)) == records
    assert len(await gateway.access_log.security_events(1000)) == events


def test_the_walk_finds_every_kind_of_bound_and_has_a_valid_example_of_each_form() -> None:
    """Each kind of bound is found (the property is not empty), and the tables of valid examples cover the schema."""
    assert BOUNDS == EVERY_BOUND, "a subscription's argument has a bound: try it over the WebSocket too"
    kinds = {type(b.bound).__name__ for b in BOUNDS}
    assert kinds == {"Constraint", "DateRange", "EveryDay", "InputRule"}
    forms = {c.checked_format.name for b in BOUNDS if isinstance(c := b.bound, Constraint) and c.checked_format}
    assert forms <= set(FORMAT_EXAMPLES)
    ruled = {get_named_type(b.position.type).name for b in BOUNDS if isinstance(b.bound, InputRule) and b.position}
    assert ruled == set(INPUT_EXAMPLES)
    for name in ruled:
        named = SCHEMA.type_map[name]
        assert isinstance(named, GraphQLInputObjectType)
        valid = coerce_input_value(as_variable(example(named)), named)
        refusals: list[Refusal] = list(definition(named).origin.refusals(valid, today()))
        assert refusals == [], f"the example of {name} is valid"
