"""Every actor, block, override, setting and data category: each cell checked against a small oracle.

The oracle (:func:`expected`) restates the access rules of ``domain.md`` §2 and ``auth/policy.py``'s
docstring in a few plain lines, with its own category lists, and never calls a policy helper. The
table then asks :func:`auth.policy.decide` for every cell and compares. A cell reads like
``ALLOW``, ``ALLOW+withheld`` (with the probe items the block hides), ``CONSENT_DENIED+withheld+overridable``,
``FORBIDDEN``, ``UNAUTHENTICATED``.

Every block in the table is valid exactly today, or ended yesterday, or starts tomorrow: both ends
of a block's validity are inclusive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from auth.actor import ANONYMOUS, Actor, ActorKind, Assistant
from auth.plan import Decision, Override
from auth.policy import DecisionFacts, PolicyOptions, decide
from sources.audit import OverrideGround
from sources.categories import DataCategory as C
from sources.models import BlockKind, BlockRecord, PeriodRecord, PersonRecord, PowerOfAttorneyRecord, Sex

TODAY = date(2026, 11, 21)
PATIENT = "0907644021"  # Peter (persona blocks_places)
STRANGER = "2309510372"  # Birthe: no representation of Peter
REPRESENTATIVE = "1709683160"  # Lise: the fuldmagt holder
GUARDIAN = "0108629996"  # May: his guardian (værge) in CPR
PARENT = "1908830938"  # Sofie: custody (forældremyndighed) in CPR
DOCTOR, OTHER_DOCTOR = "CBDJ6", "7QWRT"
OUH, NEPHROLOGY, DIALYSIS, ODENSE = "378631000016009", "378641000016007", "378671000016008", "359001000016000"

# --- the rules, written out ----------------------------------------------------------------------

EVERYTHING = frozenset(C)
MASTER_DATA = frozenset({C.PERSON, C.GP, C.MASTER_CARD, C.REGISTERS, C.MASTER_CARD_EDIT})
SHARED = frozenset({C.APPOINTMENTS, C.PLANS, C.GOALS, C.DIAGNOSES})
CLINICAL = MASTER_DATA | SHARED
"""A professional with a treatment relation: master data (registers as yes/no) and shared data; never the
register contents, the log or the blocks, which are the citizen's and their representatives'."""
SCOPES = {
    "overview": frozenset(
        {C.PERSON, C.GP, C.MASTER_CARD, C.REGISTERS, C.REGISTER_DETAILS, C.APPOINTMENTS, C.PLANS, C.GOALS, C.DIAGNOSES}
    ),
    "master_card": MASTER_DATA,
    "access_log": frozenset({C.ACCESS_LOG}),
    "blocks": frozenset({C.BLOCKS, C.BLOCKS_EDIT}),
}
"""What each scope of a digital power of attorney lets the holder read or do."""
PARENT_VIEW = frozenset({C.PERSON, C.GP, C.MASTER_CARD, C.APPOINTMENTS, C.ACCESS_LOG})
"""A parent's view of a child under 15: no journal data (plans, goals, diagnoses), no writes."""

PROBES = {
    "OUH 2020": (OUH, date(2020, 6, 1)),
    "OUH 2024": (OUH, date(2024, 6, 1)),
    "nephrology 2024": (NEPHROLOGY, date(2024, 6, 1)),
    "Odense 2020": (ODENSE, date(2020, 6, 1)),
    "Odense 2024": (ODENSE, date(2024, 6, 1)),
}
"""Items (organisation, date) a block may hide; nephrology is a sub-unit of OUH."""


@dataclass(frozen=True)
class Cell:
    """One decision as the table reads it: the outcome, and which probe items its filter hides."""

    outcome: str
    hides: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Caller:
    """One kind of caller, with the facts the sources give about them and the patient."""

    name: str
    actor: Actor
    kind: str
    """``anonymous``, ``citizen`` or ``clinical``."""
    grants: frozenset[C] = frozenset()
    """For citizens: what their relation to the patient gives them."""
    relation: bool = True
    born: date = date(1964, 7, 9)
    powers: tuple[PowerOfAttorneyRecord, ...] = ()

    @property
    def assistant(self) -> bool:
        return self.actor.assistant is not None


@dataclass(frozen=True)
class Blocking:
    """The patient's blocks in one column, and what they do while valid."""

    name: str
    blocks: tuple[BlockRecord, ...]
    effect: str = "none"
    """``none``, ``named`` (the caller by autorisations-ID) or ``place`` (a treatment place or data period)."""
    hides: frozenset[str] = field(default_factory=frozenset)


def expected(caller: Caller, blocking: Blocking, override: bool, stamkort_blockable: bool) -> tuple[str, dict[C, Cell]]:
    """The oracle: the patient-level outcome and every category's cell, from the rules alone."""

    def every(outcome: str) -> tuple[str, dict[C, Cell]]:
        return outcome, dict.fromkeys(EVERYTHING, Cell(outcome))

    may_override = caller.kind == "clinical" and not caller.assistant
    if caller.kind == "anonymous":
        return every("UNAUTHENTICATED")
    if override and not may_override:
        return every("FORBIDDEN")
    if caller.kind == "citizen":
        if not caller.grants:
            return every("FORBIDDEN")
        return "ALLOW", {c: Cell("ALLOW" if c in caller.grants else "FORBIDDEN") for c in EVERYTHING}
    if not caller.relation:
        return every("FORBIDDEN")
    effect = "none" if override else blocking.effect
    denied = "CONSENT_DENIED+withheld" + ("" if caller.assistant else "+overridable")
    cells = {}
    for category in EVERYTHING:
        if category not in CLINICAL:
            cells[category] = Cell("FORBIDDEN")
        elif effect == "named" and (category in SHARED or stamkort_blockable):
            cells[category] = Cell(denied)
        elif effect == "place" and category in SHARED:
            cells[category] = Cell("ALLOW+withheld", blocking.hides)
        else:
            cells[category] = Cell("ALLOW")
    return "ALLOW", cells


# --- the table's rows and columns ----------------------------------------------------------------


def citizen(
    name: str, cpr: str, grants: frozenset[C], born: date = date(1964, 7, 9), powers: tuple[str, ...] = ()
) -> Caller:
    """A citizen; ``powers``: the scopes of the fuldmagt the patient gave them (none: no fuldmagt)."""
    given = (PowerOfAttorneyRecord("fuldmagt-1", PATIENT, cpr, frozenset(powers)),) if powers else ()
    return Caller(name, Actor(ActorKind.CITIZEN, cpr=cpr), "citizen", grants, born=born, powers=given)


def clinical(
    name: str,
    kind: ActorKind = ActorKind.PROFESSIONAL,
    relation: bool = True,
    assistant: Assistant | None = None,
    client_id: str | None = None,
) -> Caller:
    """A professional (or their assistant, or a system they use) acting as ``DOCTOR``."""
    actor = Actor(kind, authorization_id=DOCTOR, organisation_sor=NEPHROLOGY, client_id=client_id, assistant=assistant)
    return Caller(name, actor, "clinical", relation=relation)


CALLERS = [
    Caller("anonymous", ANONYMOUS, "anonymous"),
    citizen("citizen-self", PATIENT, EVERYTHING),
    citizen("citizen-other-without-representation", STRANGER, frozenset()),
    *(citizen(f"fuldmagt-{scope}", REPRESENTATIVE, SCOPES[scope], powers=(scope,)) for scope in SCOPES),
    citizen("fuldmagt-all-scopes", REPRESENTATIVE, frozenset().union(*SCOPES.values()), powers=tuple(SCOPES)),
    citizen("guardian", GUARDIAN, EVERYTHING),
    citizen("parent-of-a-child-of-14", PARENT, PARENT_VIEW, born=date(2012, 6, 1)),
    citizen("parent-of-a-child-who-turned-15-today", PARENT, frozenset(), born=date(2011, 11, 21)),
    clinical("professional-with-relation"),
    clinical("professional-without-relation", relation=False),
    clinical("assistant", assistant=Assistant("medhjaelp-0042", "Camilla Test Berg")),
    clinical("system", ActorKind.SYSTEM, client_id="epj-odense"),
]

VALID_TODAY = PeriodRecord(TODAY, TODAY)
EXPIRED = PeriodRecord(end=TODAY - timedelta(days=1))
FUTURE = PeriodRecord(start=TODAY + timedelta(days=1))
BLOCKED_DATA = PeriodRecord(date(2019, 1, 1), date(2020, 12, 31))
ON_OUH = frozenset({"OUH 2020", "OUH 2024"})


def named(who: str, validity: PeriodRecord) -> BlockRecord:
    return BlockRecord("b-named", PATIENT, BlockKind.PROFESSIONAL, validity, authorization_id=who)


def place(subunits: bool, validity: PeriodRecord) -> BlockRecord:
    kind = BlockKind.ORGANISATION
    return BlockRecord("b-place", PATIENT, kind, validity, organisation_sor=OUH, include_subunits=subunits)


def period(validity: PeriodRecord) -> BlockRecord:
    return BlockRecord("b-period", PATIENT, BlockKind.DATA_PERIOD, validity, data_period=BLOCKED_DATA)


def blockings() -> Iterator[Blocking]:
    yield Blocking("no-blocks", ())
    yield Blocking("named-block-on-this-professional", (named(DOCTOR, VALID_TODAY),), "named")
    yield Blocking("named-block-on-another-professional", (named(OTHER_DOCTOR, VALID_TODAY),))
    yield Blocking("organisation", (place(False, VALID_TODAY),), "place", ON_OUH)
    yield Blocking("organisation-with-sub-units", (place(True, VALID_TODAY),), "place", ON_OUH | {"nephrology 2024"})
    yield Blocking("data-period", (period(VALID_TODAY),), "place", frozenset({"OUH 2020", "Odense 2020"}))
    for when, validity in (("expired", EXPIRED), ("future", FUTURE)):
        yield Blocking(f"{when}-named-block-on-this-professional", (named(DOCTOR, validity),))
        yield Blocking(f"{when}-organisation", (place(False, validity),))
        yield Blocking(f"{when}-organisation-with-sub-units", (place(True, validity),))
        yield Blocking(f"{when}-data-period", (period(validity),))


BLOCKINGS = list(blockings())
OVERRIDE = Override(OverrideGround.PATIENT_CONSENT, "the patient consented at the bedside")


def facts_for(caller: Caller, blocking: Blocking) -> DecisionFacts:
    """What the sources say: every fact loaded for every caller, so the policy must pick what counts."""
    person = PersonRecord(
        PATIENT, "Peter Test", "Mortensen", Sex.MALE, caller.born, "01", None, None, False,
        custody_holders=(PARENT,), guardians=(GUARDIAN,),
    )  # fmt: skip
    return DecisionFacts(
        has_relation=caller.relation,
        blocks=blocking.blocks,
        subunits={OUH: frozenset({OUH, NEPHROLOGY, DIALYSIS})},
        person=person,
        powers=caller.powers,
    )


def observed(decision: Decision) -> Cell:
    """One decision of the policy, read the way the oracle writes cells."""
    outcome = "ALLOW" if decision.allowed else str(decision.denial)
    flags = [name for name, on in (("withheld", decision.withheld), ("overridable", decision.overridable)) if on]
    hides = frozenset(p for p, (sor, day) in PROBES.items() if not decision.item_filter.allows(sor, day))
    return Cell("+".join([outcome, *flags]), hides)


@pytest.mark.parametrize("stamkort_blockable", [False, True], ids=["stamkort-open", "stamkort-blockable"])
@pytest.mark.parametrize("override", [False, True], ids=["no-override", "override"])
@pytest.mark.parametrize("blocking", BLOCKINGS, ids=[b.name for b in BLOCKINGS])
@pytest.mark.parametrize("caller", CALLERS, ids=[c.name for c in CALLERS])
def test_every_category_is_decided_as_the_rules_say(
    caller: Caller, blocking: Blocking, override: bool, stamkort_blockable: bool
) -> None:
    access = decide(
        caller.actor,
        PATIENT,
        EVERYTHING,
        facts_for(caller, blocking),
        TODAY,
        override=OVERRIDE if override else None,
        options=PolicyOptions(stamkort_blockable=stamkort_blockable),
    )

    patient, cells = expected(caller, blocking, override, stamkort_blockable)
    assert observed(access.patient).outcome == patient
    assert {c: observed(access.decision(c)) for c in EVERYTHING} == cells
