"""A block the gateway cannot match with certainty fails closed, never open (issue 10, item 3).

The consent adapter reads a block whose actor is not an identifier it can normalise (garbage, an
unknown identifier system) or a consent it cannot read as *unmatchable*: it names every professional,
or every organisation. Identifiers are compared in one normal form on both sides.
"""

from __future__ import annotations

from datetime import date

import pytest

from auth.actor import Actor, ActorKind
from auth.plan import Decision, Denial
from auth.policy import DecisionFacts, decide
from sources.categories import MASTER_DATA_CATEGORIES, SHARED_CATEGORIES, DataCategory
from sources.models import BlockKind, BlockRecord, PeriodRecord

PETER = "0907644021"
TODAY = date(2026, 11, 21)
NEPHRO = "378641000016007"
ALL = set(DataCategory)


def shared_decisions(block: BlockRecord, authorization_id: str = "CBDJ6") -> dict[DataCategory, Decision]:
    actor = Actor(ActorKind.PROFESSIONAL, authorization_id=authorization_id, organisation_sor=NEPHRO)
    access = decide(actor, PETER, ALL, DecisionFacts(has_relation=True, blocks=(block,), subunits={}), TODAY)
    return {c: access.decision(c) for c in SHARED_CATEGORIES | MASTER_DATA_CATEGORIES}


@pytest.mark.parametrize("written", ["CBDJ6 ", " cbdj6", "\tCbDj6\u00a0"])
def test_a_block_on_the_same_id_written_otherwise_blocks_that_professional(written: str):
    block = BlockRecord("b", PETER, BlockKind.PROFESSIONAL, authorization_id=written)

    decisions = shared_decisions(block)

    assert all(decisions[c].denial is Denial.CONSENT_DENIED for c in SHARED_CATEGORIES)


@pytest.mark.parametrize("professional", ["CBDJ6", "7QWRT", "X2P9K"])
def test_an_unmatchable_professional_block_denies_every_professional_shared_data_overridably(professional: str):
    block = BlockRecord("b", PETER, BlockKind.PROFESSIONAL, unmatchable=True)

    decisions = shared_decisions(block, professional)

    for category in SHARED_CATEGORIES:
        decision = decisions[category]
        assert decision.denial is Denial.CONSENT_DENIED and decision.overridable
    assert all(decisions[c].allowed for c in MASTER_DATA_CATEGORIES)


def test_an_unmatchable_organisation_block_withholds_every_organisations_items_in_its_period():
    block = BlockRecord(
        "b", PETER, BlockKind.ORGANISATION, data_period=PeriodRecord(date(2019, 1, 1), date(2020, 12, 31)),
        unmatchable=True,
    )  # fmt: skip

    decision = shared_decisions(block)[DataCategory.DIAGNOSES]

    assert decision.allowed and decision.withheld
    item_filter = decision.item_filter
    assert not item_filter.allows(NEPHRO, date(2020, 6, 1)) and not item_filter.allows("359001000016000", None)
    assert item_filter.allows(NEPHRO, date(2021, 6, 1))


def test_an_expired_unmatchable_block_does_not_apply():
    block = BlockRecord("b", PETER, BlockKind.PROFESSIONAL, PeriodRecord(end=date(2025, 1, 1)), unmatchable=True)

    assert all(shared_decisions(block)[c].allowed for c in SHARED_CATEGORIES)
