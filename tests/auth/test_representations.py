"""Whom a citizen may act for, from the holder's side, by the rules access is decided by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from auth.actor import Actor, ActorKind
from auth.representations import RepresentationSources, load_representations
from sources.audit import AccessorKind
from sources.categories import DataCategory
from sources.errors import SourceUnavailable
from sources.models import PeriodRecord, PersonRecord, PowerOfAttorneyRecord, Sex

HOLDER = "0101801234"
CHILD = "0102161234"
LEAP_CHILD = "2902121234"
WARD = "0303501234"
GIVER = "0404601234"
TODAY = date(2026, 6, 1)


def person(cpr: str, born: date, *, custody: tuple[str, ...] = (), guardians: tuple[str, ...] = ()) -> PersonRecord:
    return PersonRecord(
        cpr,
        "Alex Test",
        "Lund",
        Sex.UNKNOWN,
        born,
        "01",
        None,
        None,
        False,
        custody_holders=custody,
        guardians=guardians,
    )


def power(giver: str, scopes: set[str], start: date | None = None, end: date | None = None) -> PowerOfAttorneyRecord:
    return PowerOfAttorneyRecord(f"p-{giver}-{end}", giver, HOLDER, frozenset(scopes), PeriodRecord(start, end))


@dataclass
class Fake:
    related: list[PersonRecord] = field(default_factory=list)
    held: list[PowerOfAttorneyRecord] = field(default_factory=list)
    persons: dict[str, PersonRecord] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    async def represented_by(self, holder_cpr: str) -> list[PersonRecord]:
        self.calls.append("cpr")
        if "cpr" in self.down:
            raise SourceUnavailable("cpr", "down")
        return self.related

    async def persons_for(self, cprs: Sequence[str]) -> Mapping[str, PersonRecord | None]:
        self.calls.append("cpr")
        return {c: self.persons.get(c) for c in cprs}

    async def powers_held_by(self, holder_cpr: str) -> list[PowerOfAttorneyRecord]:
        self.calls.append("fuldmagt")
        if "fuldmagt" in self.down:
            raise SourceUnavailable("fuldmagt", "down")
        return self.held

    def sources(self) -> RepresentationSources:
        return RepresentationSources(self, self)


CITIZEN = Actor(ActorKind.CITIZEN, cpr=HOLDER)


async def test_a_child_is_listed_until_the_day_before_the_15th_birthday() -> None:
    fake = Fake(
        related=[
            person(CHILD, date(2016, 2, 1), custody=(HOLDER,)),
            person(LEAP_CHILD, date(2012, 2, 29), custody=(HOLDER,)),
        ]
    )

    found = await load_representations(CITIZEN, fake.sources(), TODAY)
    after = await load_representations(CITIZEN, fake.sources(), date(2027, 3, 1))

    child, leap = sorted(found.listed, key=lambda r: r.cpr)
    assert child.cpr == CHILD and child.kinds == (AccessorKind.PARENT,) and child.until == date(2031, 1, 31)
    assert DataCategory.DIAGNOSES not in child.categories
    assert leap.until == date(2027, 2, 28)  # born 29 February: 15 on 1 March in a common year
    assert [r.cpr for r in after.listed] == [CHILD]


async def test_a_protected_child_has_no_name_for_a_parent_but_a_ward_has_one_for_the_guardian() -> None:
    child = replace(person(CHILD, date(2016, 2, 1), custody=(HOLDER,)), protected=True)
    ward = replace(person(WARD, date(1950, 3, 3), guardians=(HOLDER,)), protected=True)
    found = await load_representations(CITIZEN, Fake(related=[child, ward]).sources(), TODAY)

    names = {r.cpr: r.name for r in found.listed}
    assert names == {CHILD: None, WARD: "Alex Test Lund"}


async def test_only_valid_powers_with_known_scopes_are_listed_and_the_givers_read_once() -> None:
    fake = Fake(
        held=[
            power(GIVER, {"overview", "blocks"}, end=date(2026, 12, 31)),
            power(WARD, {"overview"}, end=date(2025, 1, 1)),  # expired
            power(CHILD, set()),  # no scope the gateway knows
        ],
        persons={GIVER: person(GIVER, date(1960, 4, 4))},
    )

    found = await load_representations(CITIZEN, fake.sources(), TODAY)

    [giver] = found.listed
    assert giver.kinds == (AccessorKind.REPRESENTATIVE,)
    assert giver.scopes == frozenset({"overview", "blocks"})
    assert giver.until == date(2026, 12, 31)
    assert fake.calls.count("fuldmagt") == 1 and fake.calls.count("cpr") == 2


async def test_a_failed_source_is_named_and_the_other_still_lists() -> None:
    fake = Fake(related=[person(CHILD, date(2016, 2, 1), custody=(HOLDER,))], down={"fuldmagt"})

    found = await load_representations(CITIZEN, fake.sources(), TODAY)

    assert [r.cpr for r in found.listed] == [CHILD]
    assert [e.source for e in found.failed] == ["fuldmagt"]


async def test_nobody_else_has_representations_and_nothing_is_asked() -> None:
    fake = Fake(related=[person(CHILD, date(2016, 2, 1), custody=(HOLDER,))])

    for actor in (Actor(ActorKind.ANONYMOUS), Actor(ActorKind.PROFESSIONAL, authorization_id="CBDJ6")):
        assert (await load_representations(actor, fake.sources(), TODAY)).listed == []
    assert fake.calls == []
