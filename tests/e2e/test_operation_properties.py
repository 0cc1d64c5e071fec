"""The gate decides exactly what execution asks for, for generated operations (issue 9, part 3).

Each example is one operation document built from a small model: several operations and an
``operationName``, patients named by ``patient(cpr:)`` or through Federation's ``_entities`` (one or two
representations; ADR 0022), by literals or by variables (with defaults, sent, or both), fragments
spread more than once, inline fragments, aliases, and ``@skip``/``@include`` with
literals or variables. Hans (a citizen) sends it for himself and for another citizen. The test
instruments the access plan and checks, against the model's own reading of the document:

1. the (patient, category) pairs the gate decided are the pairs the model says the operation selects;
2. every patient the gate decided is one a resolver asked for (``require_patient``), and the pairs the
   resolvers asked for (``require``) are exactly the decided pairs of the patients Hans may see.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

import auth.gate
from auth.plan import AccessPlan
from sandbox.server import ThreadedSandbox
from sources.categories import DataCategory as C
from tests.e2e.conftest import HANS, KEYS, KOL, Harness, error_codes, gateway_with
from tests.entry_points import EntryPoint

FIELDS: dict[str, frozenset[C]] = {
    "person { name }": frozenset({C.PERSON}),
    "generalPractitioner { name }": frozenset({C.GP}),
    "masterCard { phone }": frozenset({C.MASTER_CARD}),
    "masterCard { registrations { organDonor details { __typename } } }": frozenset(
        {C.MASTER_CARD, C.REGISTERS, C.REGISTER_DETAILS}
    ),
    "appointments { complete }": frozenset({C.APPOINTMENTS}),
    "plans { withheld }": frozenset({C.PLANS}),
    "goals { withheld }": frozenset({C.GOALS}),
    "diagnoses { withheld }": frozenset({C.DIAGNOSES}),
    "blocks { nodes { id } }": frozenset({C.BLOCKS}),
    "accessLog(first: 1) { pageInfo { hasNextPage } }": frozenset({C.ACCESS_LOG}),
}
Pairs = set[tuple[str, C]]


@dataclass
class Operation:
    """One generated operation: its text pieces, variables, values sent, and what the model says it selects."""

    name: str
    declarations: list[str] = field(default_factory=list)
    sent: dict[str, Any] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    selects: Pairs = field(default_factory=set)
    patients: set[str] = field(default_factory=set)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.name}{self.counter}"


def condition(draw: st.DrawFn, op: Operation) -> tuple[str, bool]:
    """A ``@skip``/``@include`` (or none) and whether the selection it is on runs."""
    kind = draw(st.sampled_from(["none", "none", "none", "skip", "include"]))
    if kind == "none":
        return "", True
    source = draw(st.sampled_from(["literal", "default", "sent", "default and sent"]))
    value = draw(st.booleans())
    if source == "literal":
        argument = str(value).lower()
    else:
        variable = op.fresh("b")
        argument = f"${variable}"
        default = draw(st.booleans())
        if source == "sent":
            op.declarations.append(f"${variable}: Boolean!")
        else:
            op.declarations.append(f"${variable}: Boolean = {str(default).lower()}")
        if source == "default":
            value = default
        else:
            op.sent[variable] = value
    runs = not value if kind == "skip" else value
    return f" @{kind}(if: {argument})", runs


def patient_argument(draw: st.DrawFn, op: Operation, via: EntryPoint) -> tuple[str, str]:
    """The text naming a patient, ``cpr:``'s or a representation's key, and the patient it names once
    variables are coerced."""
    patient = draw(st.sampled_from([HANS, KOL]))
    other = KOL if patient == HANS else HANS
    scalar, value = ("CPR", str) if via is EntryPoint.PATIENT else ("ID", KEYS.key_of)
    source = draw(st.sampled_from(["literal", "default", "sent", "default and sent"]))
    if source == "literal":
        return f'"{value(patient)}"', patient
    variable = op.fresh("c")
    if source == "sent":
        op.declarations.append(f"${variable}: {scalar}!")
        op.sent[variable] = value(patient)
    elif source == "default":
        op.declarations.append(f'${variable}: {draw(st.sampled_from([scalar, f"{scalar}!"]))} = "{value(patient)}"')
    else:
        op.declarations.append(f'${variable}: {scalar} = "{value(other)}"')
        op.sent[variable] = value(patient)
    return f"${variable}", patient


def patient_entry(draw: st.DrawFn, op: Operation, directive: str, body: str) -> tuple[str, set[str]]:
    """A root field naming patients, ``patient(cpr:)`` or ``_entities``, and the patients it names."""
    via = draw(st.sampled_from(EntryPoint))
    if via is EntryPoint.PATIENT:
        argument, patient = patient_argument(draw, op, via)
        return f"{op.fresh('p')}: patient(cpr: {argument}){directive} {{ {body} }}", {patient}
    named = [patient_argument(draw, op, via) for _ in range(draw(st.integers(1, 2)))]
    representations = ", ".join(f'{{__typename: "Patient", id: {argument}}}' for argument, _ in named)
    entry = (
        f"{op.fresh('e')}: _entities(representations: [{representations}]){directive} {{ ... on Patient {{ {body} }} }}"
    )
    return entry, {patient for _, patient in named}


def patient_selections(
    draw: st.DrawFn, op: Operation, depth: int, reused: list[tuple[str, frozenset[C]]]
) -> tuple[str, frozenset[C]]:
    """Selections on a Patient, and the categories they select when they run."""
    parts: list[str] = []
    selected: set[C] = set()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field", "inline", "fragment"] if depth < 2 else ["field"]))
        directive, runs = condition(draw, op)
        if kind == "field":
            text = draw(st.sampled_from(sorted(FIELDS)))
            alias = f"{op.fresh('f')}: " if draw(st.booleans()) else ""
            head, _, rest = text.partition(" {")
            head, _, arguments = head.partition("(")
            arguments = f"({arguments}" if arguments else ""
            parts.append(f"{alias}{head}{arguments}{directive} {{{rest}")
            categories = FIELDS[text]
        elif kind == "inline":
            inner, categories = patient_selections(draw, op, depth + 1, reused)
            parts.append(f"... on Patient{directive} {{ {inner} }}")
        else:
            reuse = draw(st.integers(0, 3)) > 0
            if reused and reuse:
                name, categories = reused[draw(st.integers(0, len(reused) - 1))]
            else:
                inner, categories = patient_selections(draw, op, depth + 1, reused)
                name = op.fresh("P")
                op.fragments.append(f"fragment {name} on Patient {{ {inner} }}")
                reused.append((name, categories))
            parts.append(f"...{name}{directive}")
        if runs:
            selected |= categories
    return " ".join(parts), frozenset(selected)


@st.composite
def operations(draw: st.DrawFn, name: str) -> Operation:
    op = Operation(name)
    shared = op.fresh("S")
    inner, shared_categories = patient_selections(draw, op, 1, [])
    op.fragments.append(f"fragment {shared} on Patient {{ {inner} }}")
    reused: list[tuple[str, frozenset[C]]] = [(shared, shared_categories)]
    roots = []
    for n in range(draw(st.sampled_from([1, 2, 2, 3]))):
        directive, runs = condition(draw, op)
        body, categories = patient_selections(draw, op, 0, reused)
        if n == 0 or draw(st.booleans()):  # one fragment in several patients' scopes reveals each one's data
            body, categories = f"{body} ...{shared}", categories | shared_categories
        entry, patients = patient_entry(draw, op, directive, body)
        wrapper = draw(st.sampled_from(["none", "inline", "fragment"]))
        outer, outer_runs = condition(draw, op) if wrapper != "none" else ("", True)
        if wrapper == "inline":
            entry = f"... on Query{outer} {{ {entry} }}"
        elif wrapper == "fragment":
            fragment = op.fresh("Q")
            op.fragments.append(f"fragment {fragment} on Query {{ {entry} }}")
            entry = f"...{fragment}{outer}"
        roots.append(entry)
        if runs and outer_runs:
            op.patients |= patients
            op.selects |= {(patient, c) for patient in patients for c in categories}
    variables = f"({', '.join(op.declarations)})" if op.declarations else ""
    op.fragments.insert(0, f"query {name}{variables} {{ {' '.join(roots)} }}")
    return op


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str | None, dict[str, Any], Operation]:
    """A document of one to three operations, the operationName, the variables sent and the operation run."""
    ops = [draw(operations(name)) for name in ["A", "B", "C"][: draw(st.integers(1, 3))]]
    run = draw(st.sampled_from(ops))
    text = "\n".join(piece for op in ops for piece in op.fragments)
    named = run.name if len(ops) > 1 or draw(st.booleans()) else None
    return text, named, run.sent, run


@dataclass
class Observed:
    """What the gate decided and what the resolvers asked, for the last request."""

    plans: list[AccessPlan] = field(default_factory=list)
    patients: set[str] = field(default_factory=set)
    pairs: Pairs = field(default_factory=set)


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    seen = Observed()
    build_plan, require, require_patient = auth.gate.build_plan, AccessPlan.require, AccessPlan.require_patient

    async def decided(*args: Any, **kwargs: Any) -> AccessPlan:
        plan = await build_plan(*args, **kwargs)
        seen.plans.append(plan)
        return plan

    def asked(plan: AccessPlan, cpr: str, category: C) -> Any:
        seen.pairs.add((plan.current(cpr), category))
        return require(plan, cpr, category)

    def asked_patient(plan: AccessPlan, cpr: str) -> str:
        seen.patients.add(plan.current(cpr))
        return require_patient(plan, cpr)

    monkeypatch.setattr(auth.gate, "build_plan", decided)
    monkeypatch.setattr(AccessPlan, "require", asked)
    monkeypatch.setattr(AccessPlan, "require_patient", asked_patient)
    yield seen


@pytest.fixture
async def harness(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Harness]:
    """The gateway, with room for the generated documents (the limits are tested elsewhere)."""
    roomy = {"max_tokens": 20_000, "max_aliases": 10_000, "max_request_bytes": 1 << 20}
    async for gateway in gateway_with(sandbox, tmp_path, **roomy):
        yield Harness(gateway)


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # each example is real requests; no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents())
async def test_the_gate_decides_exactly_what_the_resolvers_ask_for(
    harness: Harness, observed: Observed, document: tuple[str, str | None, dict[str, Any], Operation]
) -> None:
    text, name, variables, run = document
    seen = observed
    seen.plans.clear()
    seen.patients.clear()
    seen.pairs.clear()
    note(f"{text}\noperationName={name} variables={json.dumps(variables)}")

    response = await harness.gateway.client.post(
        "/graphql",
        json={"query": text, "operationName": name, "variables": variables},
        headers={"authorization": f"Bearer {harness.gateway.citizen(HANS)}"},
    )

    body = response.json()
    assert response.status_code == 200 and {code for code, _ in error_codes(body)} <= {"FORBIDDEN"}, body
    (plan,) = seen.plans
    decided = {(cpr, c) for cpr, access in plan.patients.items() for c in access.requested}
    assert set(plan.patients) == run.patients == seen.patients
    assert decided == run.selects
    assert seen.pairs == {(cpr, c) for cpr, c in decided if cpr == HANS}
