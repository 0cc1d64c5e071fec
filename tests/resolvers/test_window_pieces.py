"""A search cut around a blocked period asks once per window piece; an item two pieces return is shown once."""

from __future__ import annotations

from datetime import date

from resolvers.gather import GatherKey, plan_loader
from resolvers.plans import keep_goal
from sources.clinical import (
    BlockRule,
    ClinicalSearch,
    DateWindow,
    Endpoint,
    GoalKind,
    GoalRecord,
    ItemFilter,
    ItemsAnswer,
    OrganisationRef,
)
from sources.models import PeriodRecord

PETER = "0907644021"
BLOCK_2019_2020 = ItemFilter((BlockRule(period=PeriodRecord(date(2019, 1, 1), date(2020, 12, 31))),))


def goal(ident: str, start: PeriodRecord | None) -> GoalRecord:
    return GoalRecord(
        ident, PETER, "plans", GoalKind.LIFE, "Cykle", "active", OrganisationRef("111111", "X"), start=start
    )


async def test_an_item_returned_by_both_window_pieces_is_shown_once_and_what_may_fall_in_the_block_never():
    asked: list[DateWindow] = []
    later = goal("later", PeriodRecord(date(2022, 3, 1), date(2022, 3, 1)))
    straddling = goal("straddling", PeriodRecord(date(2018, 1, 1), date(2021, 12, 31)))
    undated = goal("undated", None)

    async def careless_source(search: ClinicalSearch) -> ItemsAnswer[GoalRecord]:
        asked.append(search.window)  # a source ignoring the window: everything, for every piece
        return ItemsAnswer({PETER: [later, straddling, undated]})

    loader = plan_loader([(Endpoint("plans"), careless_source)], keep_goal)
    found = await loader.get(GatherKey(PETER, DateWindow(), BLOCK_2019_2020))

    assert asked == [DateWindow(None, date(2019, 1, 1)), DateWindow(date(2021, 1, 1), None)]
    assert [g.id for g in found.items] == ["later"]
    assert found.complete
