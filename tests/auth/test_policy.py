"""The access rules case by case: the situations the decision table does not spell out.

``tests/auth/test_decision_table.py`` crosses every caller with every block; here are the edges:
birthdays, powers of attorney out of date, sources down, who may override, and what the access
record learns about the caller.
"""

from __future__ import annotations

from datetime import date

import pytest

from auth.actor import ANONYMOUS, Actor, ActorKind, Assistant
from auth.plan import Denial, Override
from auth.policy import DecisionFacts, PolicyOptions, decide
from sources.audit import AccessorKind, OverrideGround
from sources.categories import DataCategory
from sources.errors import FailureKind, SourceFailure
from sources.models import BlockKind, BlockRecord, PeriodRecord, PersonRecord, PowerOfAttorneyRecord, Sex

HANS = "1403723705"
CHILD = "1006154216"
PARENT = "1908830938"
LISE = "1709683160"
TODAY = date(2026, 11, 21)
CITIZEN = Actor(ActorKind.CITIZEN, cpr=HANS)
DOCTOR = Actor(ActorKind.PROFESSIONAL, authorization_id="CBDJ6", organisation_sor="378641000016007")
ASSISTANT = Actor(
    ActorKind.PROFESSIONAL, authorization_id="CBDJ6", organisation_sor="378641000016007", assistant=Assistant("m-42")
)
SYSTEM = Actor(ActorKind.SYSTEM, authorization_id="CBDJ6", client_id="epj-odense")
ALL = set(DataCategory)
SHARED = {DataCategory.APPOINTMENTS, DataCategory.PLANS, DataCategory.GOALS, DataCategory.DIAGNOSES}
MASTER_DATA = {
    DataCategory.PERSON, DataCategory.GP, DataCategory.MASTER_CARD, DataCategory.REGISTERS,
    DataCategory.MASTER_CARD_EDIT,
}  # fmt: skip
CITIZENS_ONLY = {DataCategory.REGISTER_DETAILS, DataCategory.ACCESS_LOG, DataCategory.BLOCKS, DataCategory.BLOCKS_EDIT}
OVERRIDE = Override(OverrideGround.NOT_CONTACTABLE, "unconscious at admission, needs dialysis now")


def named_block(authorization_id: str, validity: PeriodRecord | None = None) -> BlockRecord:
    return BlockRecord(
        "b1", HANS, BlockKind.PROFESSIONAL, validity or PeriodRecord(), authorization_id=authorization_id
    )


def person(cpr: str, born: date | None, custody: tuple[str, ...] = (), guardians: tuple[str, ...] = ()) -> PersonRecord:
    return PersonRecord(
        cpr, "Ida Test", "Nielsen", Sex.FEMALE, born, "01", None, None, False,
        custody_holders=custody, guardians=guardians,
    )  # fmt: skip


def for_hans(*powers: PowerOfAttorneyRecord) -> DecisionFacts:
    """Hans's CPR record (no custody, no guardian) and the caller's powers of attorney from him."""
    return DecisionFacts(person=person(HANS, date(1972, 3, 14)), powers=powers)


def down(source: str) -> SourceFailure:
    return SourceFailure(source, FailureKind.UNAVAILABLE)


def relation(*blocks: BlockRecord) -> DecisionFacts:
    return DecisionFacts(has_relation=True, blocks=blocks)


@pytest.mark.parametrize(
    ("actor", "facts", "patient_denial", "denied"),
    [
        (CITIZEN, DecisionFacts(), None, set()),
        (Actor(ActorKind.CITIZEN, cpr=LISE), for_hans(), Denial.FORBIDDEN, ALL),
        (ANONYMOUS, DecisionFacts(), Denial.UNAUTHENTICATED, ALL),
        (DOCTOR, relation(), None, CITIZENS_ONLY),
        (DOCTOR, DecisionFacts(has_relation=False, blocks=()), Denial.FORBIDDEN, ALL),
        (DOCTOR, relation(named_block("CBDJ6")), None, CITIZENS_ONLY | SHARED),
        (DOCTOR, relation(named_block("7QWRT")), None, CITIZENS_ONLY),
        (DOCTOR, relation(named_block("CBDJ6", PeriodRecord(end=date(2025, 1, 1)))), None, CITIZENS_ONLY),
        (
            DOCTOR,
            DecisionFacts(has_relation=None, blocks=(), failure=down("treatment_relation")),
            Denial.SOURCE_UNAVAILABLE,
            ALL,
        ),
        (
            DOCTOR,
            DecisionFacts(has_relation=True, blocks=None, failure=down("consent")),
            Denial.SOURCE_UNAVAILABLE,
            ALL,
        ),
    ],
    ids=[
        "citizen-self",
        "citizen-other",
        "anonymous",
        "doctor",
        "doctor-without-relation",
        "doctor-blocked-by-name",
        "other-doctor-blocked",
        "expired-named-block",
        "relation-service-down",
        "consent-service-down",
    ],
)
def test_decision_table(
    actor: Actor, facts: DecisionFacts, patient_denial: Denial | None, denied: set[DataCategory]
) -> None:
    access = decide(actor, HANS, ALL, facts, TODAY)

    assert access.patient.denial is patient_denial
    assert access.denied == frozenset(denied)


def test_a_citizen_is_never_subject_to_blocks() -> None:
    facts = DecisionFacts(has_relation=None, blocks=(named_block("CBDJ6"),))
    assert decide(CITIZEN, HANS, ALL, facts, TODAY).patient.allowed


def test_a_named_block_hides_the_master_data_only_when_stamkort_is_blockable() -> None:
    facts = relation(named_block("CBDJ6"))

    open_ = decide(DOCTOR, HANS, MASTER_DATA, facts, TODAY)
    blockable = decide(DOCTOR, HANS, MASTER_DATA, facts, TODAY, options=PolicyOptions(stamkort_blockable=True))

    assert open_.denied == frozenset()
    assert blockable.denied == frozenset(MASTER_DATA)
    assert {blockable.decision(c).denial for c in MASTER_DATA} == {Denial.CONSENT_DENIED}


def test_a_named_block_matches_the_autorisations_id_whatever_its_case() -> None:
    access = decide(DOCTOR, HANS, SHARED, relation(named_block("cbdj6")), TODAY)

    assert access.denied == frozenset(SHARED)


@pytest.mark.parametrize(("actor", "overridable"), [(DOCTOR, True), (SYSTEM, True), (ASSISTANT, False)])
def test_only_an_authorised_professional_is_told_a_named_block_can_be_overridden(
    actor: Actor, overridable: bool
) -> None:
    decision = decide(actor, HANS, SHARED, relation(named_block("CBDJ6")), TODAY).decision(DataCategory.PLANS)

    assert decision.denial is Denial.CONSENT_DENIED and decision.withheld
    assert decision.overridable is overridable


@pytest.mark.parametrize("actor", [DOCTOR, SYSTEM])
def test_an_override_lifts_the_named_block_and_is_kept_for_the_access_record(actor: Actor) -> None:
    facts = relation(named_block("CBDJ6"))

    access = decide(actor, HANS, ALL, facts, TODAY, override=OVERRIDE, options=PolicyOptions(stamkort_blockable=True))

    assert access.denied == frozenset(CITIZENS_ONLY)
    assert access.withheld == frozenset()
    assert access.override == OVERRIDE


@pytest.mark.parametrize(
    "actor",
    [ASSISTANT, CITIZEN, Actor(ActorKind.CITIZEN, cpr=LISE)],
    ids=["assistant", "citizen-self", "citizen-other"],
)
def test_an_override_from_anyone_but_an_authorised_professional_is_forbidden_and_not_kept(actor: Actor) -> None:
    facts = DecisionFacts(has_relation=True, blocks=(named_block("CBDJ6"),), person=person(HANS, None), powers=())

    access = decide(actor, HANS, ALL, facts, TODAY, override=OVERRIDE)

    assert access.patient.denial is Denial.FORBIDDEN
    assert access.override is None, "a refused override reaches no record"
    assert access.accessor is not None, "the refused attempt is recorded as refused"


def test_a_caller_without_a_token_is_unauthenticated_even_with_an_override() -> None:
    access = decide(ANONYMOUS, HANS, ALL, DecisionFacts(), TODAY, override=OVERRIDE)

    assert access.patient.denial is Denial.UNAUTHENTICATED
    assert (access.override, access.accessor) == (None, None)


@pytest.mark.parametrize(
    ("blocks", "categories", "kept"),
    [
        ((), ALL, False),
        ((named_block("CBDJ6"),), {DataCategory.PERSON, DataCategory.MASTER_CARD}, False),
        ((named_block("CBDJ6"),), {DataCategory.PLANS}, True),
        ((named_block("OTHER"),), {DataCategory.PLANS}, False),
    ],
    ids=["nothing-blocked", "named-block-on-master-data-only", "named-block-lifted", "block-on-someone-else"],
)
def test_an_accepted_override_is_kept_only_when_it_lifted_a_block_on_something_asked_for(
    blocks: tuple[BlockRecord, ...], categories: set[DataCategory], kept: bool
) -> None:
    access = decide(DOCTOR, HANS, categories, relation(*blocks), TODAY, override=OVERRIDE)

    assert access.patient.allowed
    assert access.override == (OVERRIDE if kept else None)


@pytest.mark.parametrize(
    ("born", "today", "allowed"),
    [
        (date(2011, 11, 22), TODAY, True),
        (date(2011, 11, 21), TODAY, False),
        (date(2012, 2, 29), date(2027, 2, 28), True),
        (date(2012, 2, 29), date(2027, 3, 1), False),
        (date(2016, 2, 29), date(2031, 2, 28), True),
        (date(2016, 2, 29), date(2031, 3, 1), False),
        (None, TODAY, False),
    ],
    ids=[
        "day-before-15",
        "15th-birthday",
        "leap-child-28-feb",
        "leap-child-1-mar",
        "leap-28-feb",
        "leap-1-mar",
        "unknown",
    ],
)
def test_a_parents_access_ends_on_the_childs_15th_birthday(born: date | None, today: date, allowed: bool) -> None:
    facts = DecisionFacts(person=person(CHILD, born, custody=(PARENT,)), powers=())

    access = decide(Actor(ActorKind.CITIZEN, cpr=PARENT), CHILD, {DataCategory.APPOINTMENTS}, facts, today)

    assert access.patient.allowed is allowed
    if not allowed:
        assert access.patient.denial is Denial.FORBIDDEN


def test_a_parent_sees_appointments_and_the_log_not_journal_data_nor_protected_details() -> None:
    facts = DecisionFacts(person=person(CHILD, date(2015, 6, 10), custody=(PARENT,)), powers=())

    access = decide(Actor(ActorKind.CITIZEN, cpr=PARENT), CHILD, ALL, facts, TODAY)

    assert access.accessor is AccessorKind.PARENT and not access.sees_protected
    allowed = {DataCategory.PERSON, DataCategory.GP, DataCategory.MASTER_CARD, DataCategory.APPOINTMENTS}
    assert ALL - access.denied == allowed | {DataCategory.ACCESS_LOG}


def test_a_guardian_sees_and_changes_everything_with_protected_details() -> None:
    facts = DecisionFacts(person=person(CHILD, date(1990, 1, 1), guardians=(PARENT,)), powers=())

    access = decide(Actor(ActorKind.CITIZEN, cpr=PARENT), CHILD, ALL, facts, TODAY)

    assert access.accessor is AccessorKind.GUARDIAN and access.sees_protected
    assert access.denied == frozenset()


@pytest.mark.parametrize(
    ("validity", "holder", "allowed"),
    [
        (PeriodRecord(date(2025, 1, 1)), LISE, True),
        (PeriodRecord(date(2020, 3, 1), TODAY), LISE, True),
        (PeriodRecord(date(2020, 3, 1), date(2026, 11, 20)), LISE, False),
        (PeriodRecord(date(2026, 11, 22)), LISE, False),
        (PeriodRecord(), "2205753484", False),
    ],
    ids=["valid", "ends-today", "expired-yesterday", "starts-tomorrow", "another-holder"],
)
def test_a_power_of_attorney_counts_only_for_its_holder_while_valid(
    validity: PeriodRecord, holder: str, allowed: bool
) -> None:
    power = PowerOfAttorneyRecord("f1", HANS, holder, frozenset({"overview"}), validity)

    access = decide(Actor(ActorKind.CITIZEN, cpr=LISE), HANS, {DataCategory.PLANS}, for_hans(power), TODAY)

    assert access.patient.allowed is allowed
    assert access.accessor is (AccessorKind.REPRESENTATIVE if allowed else AccessorKind.CITIZEN)
    assert access.sees_protected is allowed


@pytest.mark.parametrize(
    ("facts", "source"),
    [
        (DecisionFacts(person=None, powers=(), failure=down("cpr")), "cpr"),
        (DecisionFacts(person=person(HANS, date(1972, 3, 14)), powers=None, failure=down("fuldmagt")), "fuldmagt"),
    ],
    ids=["cpr-down", "fuldmagt-down"],
)
def test_representation_fails_closed_while_its_source_is_down(facts: DecisionFacts, source: str) -> None:
    access = decide(Actor(ActorKind.CITIZEN, cpr=LISE), HANS, ALL, facts, TODAY)

    assert access.patient.denial is Denial.SOURCE_UNAVAILABLE
    assert access.patient.source == source


def test_a_number_cpr_does_not_know_is_refused_exactly_like_a_person_the_citizen_does_not_represent() -> None:
    stranger = Actor(ActorKind.CITIZEN, cpr=LISE)
    unknown = DecisionFacts(person=None, powers=())  # CPR answered: no such person

    existing = decide(stranger, HANS, ALL, for_hans(), TODAY)
    missing = decide(stranger, "0101011234", ALL, unknown, TODAY)

    assert missing.patient == existing.patient
    assert missing.patient.denial is Denial.FORBIDDEN
