"""Blocks on treatment places and data periods narrow a professional's shared data, item by item."""

from __future__ import annotations

from datetime import date

import pytest

from auth.actor import Actor, ActorKind
from auth.plan import Decision, Denial
from auth.policy import DecisionFacts, decide, organisations_needing_subunits
from sources.categories import SHARED_CATEGORIES, DataCategory
from sources.clinical import DateWindow, Endpoint, ItemFilter, windows_outside
from sources.errors import FailureKind, SourceFailure
from sources.models import BlockKind, BlockRecord, PeriodRecord

PETER = "0907644021"
TODAY = date(2026, 11, 21)
OUH, NEPHRO, DIALYSIS, ODENSE = "378631000016009", "378641000016007", "378671000016008", "359001000016000"
CITIZEN = Actor(ActorKind.CITIZEN, cpr=PETER)
DOCTOR = Actor(ActorKind.PROFESSIONAL, authorization_id="CBDJ6", organisation_sor=NEPHRO)
ALL = set(DataCategory)
BLOCKED_2019_2020 = PeriodRecord(date(2019, 1, 1), date(2020, 12, 31))
JANUARY_2026 = DateWindow(date(2026, 1, 1), date(2026, 2, 1))


def place(sor: str, subunits: bool, validity: PeriodRecord | None = None) -> BlockRecord:
    return BlockRecord(
        "b-place", PETER, BlockKind.ORGANISATION, validity or PeriodRecord(), organisation_sor=sor,
        include_subunits=subunits,
    )  # fmt: skip


def period(data: PeriodRecord) -> BlockRecord:
    return BlockRecord("b-period", PETER, BlockKind.DATA_PERIOD, data_period=data)


def doctor_filter(
    *blocks: BlockRecord, subunits: dict[str, frozenset[str]] | None = None
) -> dict[DataCategory, Decision]:
    facts = DecisionFacts(has_relation=True, blocks=blocks, subunits=subunits if subunits is not None else {})
    access = decide(DOCTOR, PETER, ALL, facts, TODAY)
    return {c: access.decision(c) for c in ALL}


def test_a_place_block_with_sub_units_hides_the_sub_units_items_from_professionals():
    decisions = doctor_filter(place(OUH, True), subunits={OUH: frozenset({NEPHRO, DIALYSIS})})

    for category in SHARED_CATEGORIES:
        decision = decisions[category]
        assert decision.allowed and decision.withheld
        assert not decision.item_filter.allows(DIALYSIS, date(2026, 1, 5))
        assert not decision.item_filter.allows(OUH, None)
        assert decision.item_filter.allows(ODENSE, date(2026, 1, 5))


def test_a_place_block_without_sub_units_hides_only_that_place():
    decision = doctor_filter(place(OUH, False))[DataCategory.APPOINTMENTS]

    assert not decision.item_filter.allows(OUH, date(2026, 1, 5))
    assert decision.item_filter.allows(NEPHRO, date(2026, 1, 5))


def test_blocks_never_narrow_the_person_gp_or_master_card():
    decisions = doctor_filter(place(OUH, True), period(BLOCKED_2019_2020), subunits={OUH: frozenset()})

    for category in (DataCategory.PERSON, DataCategory.GP, DataCategory.MASTER_CARD, DataCategory.REGISTERS):
        assert decisions[category].allowed and not decisions[category].withheld


def test_a_data_period_block_hides_items_dated_inside_it_at_every_place():
    item_filter = doctor_filter(period(BLOCKED_2019_2020))[DataCategory.DIAGNOSES].item_filter

    assert not item_filter.allows(ODENSE, date(2020, 6, 1))
    assert item_filter.allows(ODENSE, date(2021, 1, 1))
    assert not item_filter.allows(ODENSE, None)  # an item that cannot be placed is withheld (ADR 0011)


def test_an_expired_block_does_not_apply():
    expired = PeriodRecord(date(2020, 1, 1), date(2025, 12, 31))
    decision = doctor_filter(place(OUH, False, expired))[DataCategory.APPOINTMENTS]

    assert decision.allowed and not decision.withheld and decision.item_filter.rules == ()


def test_the_citizen_is_never_narrowed_by_their_own_blocks():
    facts = DecisionFacts(blocks=(place(OUH, True), period(BLOCKED_2019_2020)))
    access = decide(CITIZEN, PETER, ALL, facts, TODAY)

    for category in ALL:
        assert access.decision(category).allowed and not access.decision(category).withheld


def test_without_the_sor_register_a_sub_unit_block_fails_closed():
    sor_down = SourceFailure("sor", FailureKind.UNAVAILABLE)
    facts = DecisionFacts(has_relation=True, blocks=(place(OUH, True),), subunits=None, failure=sor_down)
    access = decide(DOCTOR, PETER, ALL, facts, TODAY)

    for category in SHARED_CATEGORIES:
        assert access.decision(category).denial is Denial.SOURCE_UNAVAILABLE
    assert access.decision(DataCategory.PERSON).allowed


def test_only_valid_sub_unit_blocks_need_the_sor_register():
    expired = PeriodRecord(end=date(2020, 1, 1))
    blocks = [place(OUH, True), place(ODENSE, False), place(NEPHRO, True, expired), period(BLOCKED_2019_2020)]

    assert organisations_needing_subunits(blocks, TODAY) == {OUH}


def test_an_endpoint_is_skipped_only_when_its_whole_organisation_is_blocked():
    decisions = doctor_filter(place(OUH, True), place(ODENSE, False), subunits={OUH: frozenset({NEPHRO})})
    item_filter = decisions[DataCategory.APPOINTMENTS].item_filter

    assert item_filter.skips_endpoint(Endpoint("ouh", organisation_sor=NEPHRO))
    assert not item_filter.skips_endpoint(Endpoint("odense", organisation_sor=ODENSE))  # sub-units not blocked
    assert not item_filter.skips_endpoint(Endpoint("gp"))
    assert item_filter.excluded_organisations == {OUH, NEPHRO, ODENSE}


@pytest.mark.parametrize(
    ("window", "blocked", "expected"),
    [
        (DateWindow(date(2018, 1, 1), date(2022, 1, 1)), [BLOCKED_2019_2020],
         [DateWindow(date(2018, 1, 1), date(2019, 1, 1)), DateWindow(date(2021, 1, 1), date(2022, 1, 1))]),
        (DateWindow(date(2019, 3, 1), date(2019, 4, 1)), [BLOCKED_2019_2020], []),
        (JANUARY_2026, [BLOCKED_2019_2020], [JANUARY_2026]),
        (DateWindow(), [BLOCKED_2019_2020], [DateWindow(None, date(2019, 1, 1)), DateWindow(date(2021, 1, 1), None)]),
        (DateWindow(date(2020, 6, 1)), [PeriodRecord(end=date(2021, 5, 31))], [DateWindow(date(2021, 6, 1))]),
    ],
)  # fmt: skip
def test_blocked_data_periods_are_cut_out_of_the_searched_window(window, blocked, expected):
    assert list(windows_outside(window, blocked)) == expected


def test_an_org_block_narrowed_to_a_period_is_applied_on_the_way_out_only():
    block = BlockRecord("b", PETER, BlockKind.ORGANISATION, organisation_sor=OUH, data_period=BLOCKED_2019_2020)
    item_filter: ItemFilter = doctor_filter(block)[DataCategory.APPOINTMENTS].item_filter

    assert item_filter.excluded_organisations == frozenset()
    assert item_filter.blocked_periods == ()
    assert not item_filter.allows(OUH, date(2020, 2, 2))
    assert item_filter.allows(OUH, date(2022, 2, 2))
