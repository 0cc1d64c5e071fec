"""Access properties end to end, for generated callers, blocks, overrides and clinical data.

Each example gives Hans (who has a treatment relation to Mette Test Larsen, CBDJ6) generated blocks
and generated appointments, plans, goals and diagnoses at random places of the sandbox's SOR tree
and random dates, in the live sandbox population; asks the gateway for all four shared categories
over ten years as a generated caller (Mette, her assistant, a vendor system she uses, or Hans
himself), with or without an override, naming Hans by ``patient(cpr:)`` or, without an override,
through Federation's ``_entities`` (ADR 0022); and restores the population exactly afterwards. For
every example:

1. no blocked datum comes back (an item of a blocked organisation, or of a sub-unit when the block
   includes them, or dated in a blocked period) unless the caller overrode the blocks or is Hans;
   and everything generated that is not blocked does come back;
2. no upstream request asks for what a pushdown could leave out: an endpoint wholly owned by an
   organisation blocked with its sub-units gets no request, a named block or a refused override
   means no shared endpoint gets one, every search leaves the blocked organisations out and cuts
   the blocked data periods from its dates, and SOR is asked only when a block needs its sub-units;
3. exactly one access record is written for the request, with the override's ground and reason
   only when the caller may override and a block in force was lifted; none when the override was
   refused (ADR 0007).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from auth.access_log_sqlite import SqliteAccessLog
from auth.gate import today
from gateway.settings import DEMO_CLIENTS, ClientSettings
from sandbox.clinical import (
    AALBORG_TRAINING,
    AALBORG_UH,
    APPOINTMENT_ENDPOINTS,
    HASSERIS_SOR,
    LUNG_CLINIC,
    ODENSE_KOMMUNE,
    ODENSE_TRAINING,
    ORGANISATIONS,
    PLAN_ENDPOINTS,
    REGION_NORDJYLLAND,
    REGION_SYDDANMARK,
    Appointment,
    CarePlan,
    ClinicalWorld,
    Condition,
    Goal,
    Intervention,
)
from sandbox.clinical_gen import endpoints_for, local, root_of
from sandbox.personas import ASSISTANT_ID
from sandbox.population import Block, Population
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from sources.payloads import COPENHAGEN
from tests.e2e.conftest import (
    DOCTOR_WITH_RELATIONS,
    HANS,
    Gateway,
    Harness,
    error_codes,
    recorded,
    settings_for,
    start_gateway,
)
from tests.entry_points import EntryPoint

OTHER_DOCTOR = "7QWRT"
CLIENT = "epj-properties"
SORS = sorted({o.sor for o in ORGANISATIONS} | {HASSERIS_SOR})
TODAY = today()
WINDOW = {"from": str(TODAY - timedelta(days=1800)), "to": str(TODAY + timedelta(days=1800))}
SHARED = ("appointments", "plans", "goals", "diagnoses")
SHARED_ENDPOINTS = [e.name for e in (*APPOINTMENT_ENDPOINTS, *PLAN_ENDPOINTS)]
OWNERS = {e.name: e.owner_sor for e in APPOINTMENT_ENDPOINTS if e.owner_sor is not None}
ROOTS = sorted(OWNERS.values())
"""The organisations that own a whole appointment endpoint; blocks are drawn from these half the time."""
EXCLUSION = {"dds": "author.identifier:not", **{e.name: "custodian:not" for e in PLAN_ENDPOINTS}}
DATE_PARAMS = {"date", "period", "period-start", "start-date", "recorded-date"}
PLAN_ENDPOINT = {"region": "plans-hospital", "municipality": "plans-municipality", "gp": "plans-gp"}
CALLERS = ["professional", "assistant", "system", "citizen"]
"""Mette (CBDJ6), her assistant, a vendor system she uses, and Hans; each is named so in the access record."""
NAMESPACE = uuid.UUID("0c1f3c9e-8d2b-4f7a-9a61-3e5b7d2c4a10")

QUERY = """
query Properties($cpr: CPR!, $override: OverrideInput, $from: Date, $to: Date) {
  patient(cpr: $cpr, override: $override) {
    appointments(from: $from, to: $to, filter: {includeCancelled: true}) {
      withheld
      list(first: 100) { totalCount nodes { id start organisation { sorId } location { sorId } } }
    }
    plans {
      withheld
      nodes { id organisation { sorId } period { start } interventions { performer { sorId } period { start } } }
    }
    goals { withheld nodes { id organisation { sorId } start } }
    diagnoses { withheld nodes { id organisation { sorId } recorded onset } }
  }
}
"""
FIELDS = [
    "Query.patient", "Query._entities", "Patient.appointments", "Patient.plans", "Patient.goals", "Patient.diagnoses",
    "Appointments.*", "AppointmentConnection.*", "Appointment.*", "AppointmentLocation.*", "Organisation.*", "Period.*",
    "CarePlanConnection.*", "CarePlan.*", "Intervention.*", "GoalConnection.*", "Goal.*", "DiagnosisConnection.*",
    "Diagnosis.*",
]  # fmt: skip


class Item(NamedTuple):
    """A generated clinical item for Hans: what it is, where (SOR) and when."""

    what: str
    """``appointment``, ``plan``, ``goal`` or ``diagnosis``."""
    sor: str
    day: date
    dds: bool = False
    """An appointment also (or only) shared through DDS, where its organisation's tree does that."""
    performers: tuple[tuple[str, date], ...] = ()
    """A plan's interventions: performer (SOR) and start."""


@dataclass(frozen=True)
class Case:
    """One generated case: the caller, the patient's blocks, an optional override and new clinical items."""

    caller: str
    blocks: list[Block]
    override: dict[str, str] | None
    items: list[Item]
    entry_point: EntryPoint = EntryPoint.PATIENT
    """How the request names Hans; an override always goes with ``patient(cpr:)`` (a representation has none)."""


def days(low: int, high: int) -> st.SearchStrategy[date]:
    return st.integers(low, high).map(lambda n: TODAY + timedelta(days=n))


VALIDITY = {
    "active": st.tuples(st.none() | days(-900, 0), st.none() | days(0, 900)),
    "expired": st.tuples(st.none() | days(-1800, -901), days(-900, -1)),
    "future": st.tuples(days(1, 900), st.none() | days(901, 1800)),
}


@st.composite
def data_periods(draw: st.DrawFn) -> tuple[date | None, date | None]:
    start = draw(days(-1800, 1800))
    end = start + timedelta(days=draw(st.integers(0, 900)))
    shape = draw(st.sampled_from(["closed", "closed", "open-start", "open-end"]))
    return (None if shape == "open-start" else start), (None if shape == "open-end" else end)


@st.composite
def blocks(draw: st.DrawFn) -> Block:
    valid_from, valid_to = draw(VALIDITY[draw(st.sampled_from(["active", "active", "expired", "future"]))])
    block = Block("generated", HANS, "professional", valid_from=valid_from, valid_to=valid_to)
    kind = draw(st.sampled_from(["named-this", "named-other", "organisation", "organisation", "data-period"]))
    if kind.startswith("named"):
        block.authorization_id = DOCTOR_WITH_RELATIONS if kind == "named-this" else OTHER_DOCTOR
    elif kind == "organisation":
        block.kind, block.organisation_sor = "organisation", draw(st.sampled_from(ROOTS) | st.sampled_from(SORS))
        block.include_subunits = draw(st.booleans())
        if draw(st.integers(0, 3)) == 0:  # a place block narrowed to a period of data
            block.data_start, block.data_end = draw(data_periods())
    else:
        block.kind = "data_period"
        block.data_start, block.data_end = draw(data_periods())
    return block


@st.composite
def items(draw: st.DrawFn) -> Item:
    what = draw(st.sampled_from(["appointment", "appointment", "plan", "goal", "diagnosis"]))
    performers = st.lists(st.tuples(st.sampled_from(SORS), days(-1700, 1700)), max_size=2).map(tuple)
    return Item(
        what,
        draw(st.sampled_from(SORS)),
        draw(days(-1700, 1700)),
        draw(st.booleans()),
        draw(performers) if what == "plan" else (),
    )


OVERRIDE = {"ground": "NOT_CONTACTABLE", "reason": "Bevidstløs ved indlæggelse, akut dialyse"}
OVERRIDES = st.none() | st.fixed_dictionaries(
    {
        "ground": st.sampled_from(["PATIENT_CONSENT", "NOT_CONTACTABLE"]),
        "reason": st.sampled_from(["Patienten gav samtykke ved sengen", OVERRIDE["reason"]]),
    }
)
CASES = st.builds(
    Case,
    caller=st.sampled_from(CALLERS),
    blocks=st.lists(blocks(), max_size=3),
    override=OVERRIDES,
    items=st.lists(items(), max_size=8),
    entry_point=st.sampled_from(EntryPoint),
)


def after(n: int) -> date:
    return TODAY + timedelta(days=n)


NORTH_BLOCKED = [Block("north", HANS, "organisation", organisation_sor=REGION_NORDJYLLAND, include_subunits=True)]
NAMED = [Block("named", HANS, "professional", authorization_id=DOCTOR_WITH_RELATIONS)]
OLD_DATA_BLOCKED = [Block("period", HANS, "data_period", data_start=after(-1500), data_end=after(-400))]
NORTH_AND_SOUTH = [
    Item("appointment", AALBORG_UH, after(20)),
    Item("appointment", LUNG_CLINIC, after(-700)),
    Item("appointment", ODENSE_TRAINING, after(5), dds=True),
    Item("plan", ODENSE_KOMMUNE, after(-30), performers=((AALBORG_TRAINING, after(-10)), (ODENSE_TRAINING, after(-9)))),
    Item("goal", LUNG_CLINIC, after(-800)),
    Item("diagnosis", AALBORG_UH, after(-60)),
    Item("diagnosis", HASSERIS_SOR, after(-900)),
]


# --- the rules the properties check, stated over the sandbox's own data --------------------------


def valid(block: Block, on: date) -> bool:
    return (block.valid_from is None or block.valid_from <= on) and (block.valid_to is None or on <= block.valid_to)


def in_data_period(block: Block, day: date | None) -> bool:
    if block.data_start is None and block.data_end is None:
        return True
    return day is not None and (block.data_start or date.min) <= day <= (block.data_end or date.max)


@dataclass
class Rules:
    """What the rules say about one case, worked out from the population the sandbox served."""

    case: Case
    world: ClinicalWorld
    active: list[Block]
    """The blocks that apply to this caller today: none for Hans himself, nor after an override."""

    @classmethod
    def of(cls, case: Case, population: Population) -> Rules:
        narrowed = case.caller != "citizen" and case.override is None
        active = [b for b in population.blocks if b.cpr == HANS and valid(b, today())] if narrowed else []
        return cls(case, population.clinical, active)

    @property
    def refused(self) -> bool:
        """An override from someone who may not send one: the patient is forbidden."""
        return self.case.override is not None and self.case.caller in ("assistant", "citizen")

    @property
    def named(self) -> bool:
        """The caller is blocked by name and sent no override: no shared data at all."""
        return any(b.kind == "professional" and b.authorization_id == DOCTOR_WITH_RELATIONS for b in self.active)

    def lifts(self, population: Population) -> bool:
        """The override was accepted and lifted a block in force (all four shared categories are asked)."""
        if self.case.override is None or self.case.caller not in ("professional", "system"):
            return False
        in_force = [b for b in population.blocks if b.cpr == HANS and valid(b, today())]
        return any(b.kind != "professional" or b.authorization_id == DOCTOR_WITH_RELATIONS for b in in_force)

    def places(self, block: Block) -> set[str]:
        assert block.organisation_sor is not None
        return self.world.subunits(block.organisation_sor) if block.include_subunits else {block.organisation_sor}

    def blocked(self, sor: str | None, day: date | None) -> bool:
        """Whether an item of organisation ``sor`` dated ``day`` is hidden by a block in force."""
        for block in self.active:
            if block.kind == "organisation" and sor in self.places(block) and in_data_period(block, day):
                return True
            if block.kind == "data_period" and day is not None and in_data_period(block, day):
                return True
        return False

    def excluded(self) -> set[str]:
        """Organisations blocked at every date: no search may ask for them."""
        found: set[str] = set()
        for block in self.active:
            if block.kind == "organisation" and block.data_start is None and block.data_end is None:
                found |= self.places(block)
        return found

    def skipped_endpoints(self) -> set[str]:
        """Endpoints whose whole organisation is blocked with its sub-units, at every date."""
        return {
            name
            for name, owner in OWNERS.items()
            for b in self.active
            if b.kind == "organisation" and b.include_subunits and b.data_start is None and b.data_end is None
            if owner in self.places(b)
        }


def add_items(population: Population, generated: Iterable[Item]) -> dict[str, Item]:
    """Put ``generated`` into the live clinical world; their IDs → the items."""
    world, added = population.clinical, {}
    for n, item in enumerate(generated):
        ident = str(uuid.uuid5(NAMESPACE, str(n)))
        added[ident] = item
        kind = world.organisation(item.sor).kind
        plans = PLAN_ENDPOINT[kind]
        if item.what == "appointment":
            dds = item.dds and kind != "gp" and root_of(world, item.sor) in (REGION_SYDDANMARK, ODENSE_KOMMUNE)
            start = local(item.day, 9)
            world.appointments.append(
                Appointment(ident, HANS, endpoints_for(world, item.sor, dds=dds), item.sor, start,
                            start + timedelta(minutes=30), location_sor=item.sor, title="Genereret aftale")
            )  # fmt: skip
        elif item.what == "plan":
            work = [Intervention("FSIII", "G1.39", "Sårbehandling", "Indsats", p, d) for p, d in item.performers]
            world.care_plans.append(CarePlan(ident, HANS, plans, "Plan", item.sor, item.day, interventions=work))
        elif item.what == "goal":
            world.goals.append(Goal(ident, HANS, plans, "functional", "Genereret mål", item.sor, item.day))
        else:
            world.conditions.append(Condition(ident, HANS, plans, "ICPC2", "T90", "Diabetes", item.sor, item.day))
    return added


@contextmanager
def served(gateway: Gateway, case: Case) -> Iterator[dict[str, Item]]:
    """``case``'s blocks and items in the live population, recorders cleared; all put back exactly afterwards."""
    population = gateway.sandbox.sandbox.population
    world = population.clinical
    parts: list[list[Any]] = [population.blocks, world.appointments, world.care_plans, world.goals, world.conditions]
    saved = [list(part) for part in parts]
    try:
        population.blocks += [replace(b, id=f"property-block-{n}") for n, b in enumerate(case.blocks)]
        generated = add_items(population, case.items)
        for name in SOURCE_APPS:
            gateway.sandbox.control(name).recorder.clear()
        yield generated
    finally:
        for part, before in zip(parts, saved, strict=True):
            part[:] = before


def parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(COPENHAGEN).date() if "T" in value else date.fromisoformat(value)


def returned(patient: dict[str, Any]) -> Iterator[tuple[str, str, str | None, date | None]]:
    """Every (section, item ID, organisation, date) in the response, interventions and places included."""
    appointments = patient.get("appointments") or {"list": {"nodes": []}}
    for node in appointments["list"]["nodes"]:
        day = parse_day(node["start"])
        yield "appointments", node["id"], node["organisation"]["sorId"], day
        if node["location"] and node["location"]["sorId"]:
            yield "appointments", node["id"], node["location"]["sorId"], day
    for plan in (patient.get("plans") or {"nodes": []})["nodes"]:
        start = parse_day(plan["period"]["start"])
        yield "plans", plan["id"], plan["organisation"]["sorId"], start
        for work in plan["interventions"]:
            if work["performer"] is not None:
                yield "plans", plan["id"], work["performer"]["sorId"], parse_day(work["period"]["start"]) or start
    for goal in (patient.get("goals") or {"nodes": []})["nodes"]:
        yield "goals", goal["id"], goal["organisation"]["sorId"], parse_day(goal["start"])
    for diagnosis in (patient.get("diagnoses") or {"nodes": []})["nodes"]:
        day = parse_day(diagnosis["recorded"] or diagnosis["onset"])
        yield "diagnoses", diagnosis["id"], diagnosis["organisation"]["sorId"], day


def searches(sandbox: ThreadedSandbox, name: str) -> list[list[tuple[str, str]]]:
    """The query parameters of every search endpoint ``name`` received (document fetches left out)."""
    requests = sandbox.control(name).recorder.requests
    return [parse_qsl(r.query) for r in requests if "/Binary/" not in r.path]


def searched_window(query: list[tuple[str, str]]) -> tuple[date | None, date | None]:
    """The half-open ``[low, high)`` date window a search asked for (``None``: open)."""
    low = high = None
    for key, value in query:
        if key in DATE_PARAMS and value[:2] in ("ge", "lt"):
            day = date.fromisoformat(value[2:12])
            low, high = (day, high) if value[:2] == "ge" else (low, day)
    return low, high


def overlaps(window: tuple[date | None, date | None], block: Block) -> bool:
    low, high = window
    return (low is None or block.data_end is None or low <= block.data_end) and (
        high is None or block.data_start is None or block.data_start < high
    )


def token(gateway: Gateway, caller: str) -> str:
    if caller == "citizen":
        return gateway.citizen(HANS)
    if caller == "assistant":
        return gateway.token(actor_kind="assistant", assistant_id=ASSISTANT_ID, authorization_id=DOCTOR_WITH_RELATIONS)
    if caller == "system":
        return gateway.token(actor_kind="system", client_id=CLIENT, authorization_id=DOCTOR_WITH_RELATIONS)
    return gateway.professional(DOCTOR_WITH_RELATIONS)


@pytest.fixture
async def harness(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Harness]:
    """The gateway with a vendor system registered for everything this test reads."""
    store = SqliteAccessLog(tmp_path / "access.db")
    clients = {**DEMO_CLIENTS, CLIENT: ClientSettings(name="EPJ til egenskabstest", fields=FIELDS)}
    async for running in start_gateway(sandbox, settings_for(sandbox, tmp_path, clients=clients), store):
        yield Harness(running)
    await store.aclose()


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is a real request; cases are small
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=CASES)
@example(Case("professional", NORTH_BLOCKED, None, NORTH_AND_SOUTH))  # region-nordjylland never asked
@example(Case("system", NORTH_BLOCKED, OVERRIDE, NORTH_AND_SOUTH))  # the override lifts it
@example(Case("assistant", NAMED, None, NORTH_AND_SOUTH))  # no shared endpoint asked
@example(Case("citizen", NORTH_BLOCKED + NAMED + OLD_DATA_BLOCKED, None, NORTH_AND_SOUTH))  # sees everything
@example(Case("system", NORTH_BLOCKED, None, NORTH_AND_SOUTH, EntryPoint.ENTITIES))  # as a router asks
async def test_blocks_hold_for_every_caller_override_and_item(harness: Harness, case: Case) -> None:
    gateway = harness.gateway.via(case.entry_point if case.override is None else EntryPoint.PATIENT)
    with served(gateway, case) as generated:
        started = datetime.now(UTC)
        body = await gateway.graphql(QUERY, token(gateway, case.caller), cpr=HANS, override=case.override, **WINDOW)
        note(f"response: {body}")
        rules = Rules.of(case, gateway.sandbox.sandbox.population)
        check_data(rules, generated, body)
        check_requests(rules, gateway.sandbox)
        await check_record(rules, gateway, started)


async def test_dds_is_never_searched_inside_a_blocked_data_period(harness: Harness) -> None:
    """Hans has a withdrawn home-care visit in DDS; looking for its successor must not reach into the period."""
    gateway = harness.gateway
    (blocked,) = OLD_DATA_BLOCKED
    with served(gateway, Case("professional", OLD_DATA_BLOCKED, None, [])):
        body = await gateway.graphql(QUERY, token(gateway, "professional"), cpr=HANS, override=None, **WINDOW)
        windows = [searched_window(query) for query in searches(gateway.sandbox, "dds")]

    assert error_codes(body) == [] and windows
    assert [window for window in windows if overlaps(window, blocked)] == []


def check_data(rules: Rules, generated: dict[str, Item], body: dict[str, Any]) -> None:
    """1. No blocked datum comes back; everything generated that is not blocked does."""
    if rules.refused:
        assert body["data"] == {"patient": None} and error_codes(body) == [("FORBIDDEN", None)]
        return
    if rules.named:
        assert all(body["data"]["patient"][s] is None for s in SHARED)
        assert {code for code, _ in error_codes(body)} == {"CONSENT_DENIED"}
        overridable = rules.case.caller != "assistant"
        assert all(bool(e["extensions"].get("overridable")) is overridable for e in body["errors"])
        return
    assert error_codes(body) == [], body.get("errors")
    patient = body["data"]["patient"]
    assert patient["appointments"]["list"]["totalCount"] == len(patient["appointments"]["list"]["nodes"])
    seen = set()
    for section, ident, sor, day in returned(patient):
        assert not rules.blocked(sor, day), f"{section} {ident} at {sor} on {day} is blocked"
        seen.add(ident)
    for ident, item in generated.items():
        visible = not rules.blocked(item.sor, item.day)
        assert (ident in seen) is visible, f"generated {item} should {'' if visible else 'not '}come back"
    place_blocks = any(b.kind != "professional" for b in rules.active)
    assert all(patient[s]["withheld"] is place_blocks for s in SHARED)


def check_requests(rules: Rules, sandbox: ThreadedSandbox) -> None:
    """2. No upstream request for what a pushdown could leave out."""
    silent = SHARED_ENDPOINTS if rules.refused or rules.named else sorted(rules.skipped_endpoints())
    for name in silent:
        assert recorded(sandbox, name) == 0, f"{name} was asked for data the caller may not see"
    if not (rules.refused or rules.active):
        assert all(recorded(sandbox, name) > 0 for name in SHARED_ENDPOINTS), "nothing is blocked, all are asked"
    excluded = rules.excluded()
    periods = [b for b in rules.active if b.kind == "data_period"]
    for name in SHARED_ENDPOINTS:
        for query in searches(sandbox, name):
            parameter = EXCLUSION.get(name, "performer-organization:not")
            left_out = {value.rpartition("|")[2] for key, value in query if key == parameter}
            assert excluded <= left_out, f"{name} was not told to leave out {sorted(excluded - left_out)}"
            window = searched_window(query)
            assert not any(overlaps(window, b) for b in periods), f"{name} searched {window} in a blocked period"
    if not rules.refused:
        needs_subunits = any(b.kind == "organisation" and b.include_subunits for b in rules.active)
        # At most once: a gateway keeps sub-units it read for an earlier request for a short TTL (ADR 0014).
        assert recorded(sandbox, "sor") <= int(needs_subunits), "SOR is asked once at most, only when a block needs it"


async def check_record(rules: Rules, gateway: Gateway, started: datetime) -> None:
    """3. Exactly one access record, carrying the override when one was sent; none for a refused override."""
    records = await gateway.access_log.for_patient(HANS, since=started)
    if rules.refused:
        assert records == [], "a refused override leaves only a security event (ADR 0007)"
        return
    (record,) = records
    assert record.actor_kind == rules.case.caller
    assert record.requested == tuple(sorted(SHARED))
    sent = rules.case.override if rules.lifts(gateway.sandbox.sandbox.population) else None
    sent = sent or {}
    assert (record.override_ground, record.override_reason) == (sent.get("ground"), sent.get("reason"))
    if rules.named:
        assert set(SHARED) <= set(record.denied) and record.returned == ()
