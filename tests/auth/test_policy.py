"""The decision table for the actors and rules of the walking skeleton."""

from __future__ import annotations

from datetime import date

import pytest

from auth.actor import ANONYMOUS, Actor, ActorKind
from auth.plan import Denial
from auth.policy import DecisionFacts, decide
from sources.categories import DataCategory
from sources.models import BlockKind, BlockRecord, PeriodRecord

HANS = "1403723705"
TODAY = date(2026, 11, 21)
CITIZEN = Actor(ActorKind.CITIZEN, cpr=HANS)
DOCTOR = Actor(ActorKind.PROFESSIONAL, authorization_id="CBDJ6", organisation_sor="378641000016007")
ALL = set(DataCategory)


def named_block(authorization_id: str, validity: PeriodRecord | None = None) -> BlockRecord:
    return BlockRecord(
        "b1", HANS, BlockKind.PROFESSIONAL, validity or PeriodRecord(), authorization_id=authorization_id
    )


@pytest.mark.parametrize(
    ("actor", "cpr", "facts", "expected"),
    [
        (CITIZEN, HANS, DecisionFacts(), None),
        (CITIZEN, "2309510372", DecisionFacts(), Denial.FORBIDDEN),
        (ANONYMOUS, HANS, DecisionFacts(), Denial.UNAUTHENTICATED),
        (DOCTOR, HANS, DecisionFacts(has_relation=True, blocks=()), None),
        (DOCTOR, HANS, DecisionFacts(has_relation=False, blocks=()), Denial.FORBIDDEN),
        (DOCTOR, HANS, DecisionFacts(has_relation=True, blocks=(named_block("CBDJ6"),)), Denial.CONSENT_DENIED),
        (DOCTOR, HANS, DecisionFacts(has_relation=True, blocks=(named_block("7QWRT"),)), None),
        (
            DOCTOR,
            HANS,
            DecisionFacts(has_relation=True, blocks=(named_block("CBDJ6", PeriodRecord(end=date(2025, 1, 1))),)),
            None,
        ),
        (
            DOCTOR,
            HANS,
            DecisionFacts(has_relation=None, blocks=(), failed_source="treatment_relation"),
            Denial.SOURCE_UNAVAILABLE,
        ),
        (
            DOCTOR,
            HANS,
            DecisionFacts(has_relation=True, blocks=None, failed_source="consent"),
            Denial.SOURCE_UNAVAILABLE,
        ),
    ],
)
def test_decision_table(actor: Actor, cpr: str, facts: DecisionFacts, expected: Denial | None) -> None:
    access = decide(actor, cpr, ALL, facts, TODAY)

    assert access.patient.denial is expected
    assert access.denied == (frozenset() if expected is None else frozenset(ALL))


def test_a_citizen_is_never_subject_to_blocks() -> None:
    facts = DecisionFacts(has_relation=None, blocks=(named_block("CBDJ6"),))
    assert decide(CITIZEN, HANS, ALL, facts, TODAY).patient.allowed
