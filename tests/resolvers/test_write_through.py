"""How a write's outcome reaches the access record: made, not made, or unconfirmed (ADR 0007).

The plan is the real :class:`auth.plan.AccessPlan`; the write is a coroutine that ends as each kind
of source answer does.
"""

from __future__ import annotations

from typing import cast

import pytest

from auth.actor import Actor, ActorKind
from auth.plan import ALLOW, AccessPlan, PatientAccess
from resolvers.context import Info, write_through
from sources.categories import DataCategory
from sources.errors import (
    SourceCircuitOpen,
    SourceError,
    SourceRejected,
    SourceSkipped,
    SourceTimeout,
    SourceUnavailable,
    SourceVersionConflict,
)

HANS = "1403723705"
EDIT = DataCategory.MASTER_CARD_EDIT


class _Context:
    def __init__(self, plan: AccessPlan) -> None:
        self.access_plan = plan


class _Info:
    def __init__(self, plan: AccessPlan) -> None:
        self.context = _Context(plan)


def plan() -> AccessPlan:
    access = PatientAccess(HANS, ALLOW, {EDIT: ALLOW}, frozenset({EDIT}))
    return AccessPlan(Actor(kind=ActorKind.CITIZEN, subject="s", cpr=HANS), patients={HANS: access})


async def _answer(outcome: SourceError | None) -> str:
    if outcome is not None:
        raise outcome
    return "stored"


async def test_a_confirmed_write_is_made() -> None:
    decided = plan()

    assert await write_through(cast(Info, _Info(decided)), HANS, EDIT, _answer(None)) == "stored"

    access = decided.patients[HANS]
    assert access.returned == {EDIT} and access.unconfirmed == frozenset()


@pytest.mark.parametrize(
    ("failure", "unconfirmed"),
    [
        (SourceRejected("stamkort"), False),
        (SourceVersionConflict("stamkort"), False),
        (SourceCircuitOpen("stamkort"), False),
        (SourceSkipped("stamkort"), False),
        (SourceTimeout("stamkort"), True),
        (SourceUnavailable("stamkort"), True),
    ],
    ids=["rejected", "version", "breaker-open", "no-time-left", "timeout", "5xx"],
)
async def test_a_failed_write_is_unconfirmed_unless_it_surely_made_no_change(
    failure: SourceError, unconfirmed: bool
) -> None:
    decided = plan()

    with pytest.raises(type(failure)):
        await write_through(cast(Info, _Info(decided)), HANS, EDIT, _answer(failure))

    access = decided.patients[HANS]
    assert access.returned == set()
    assert access.unconfirmed == (frozenset({EDIT}) if unconfirmed else frozenset())
