"""What the gate loads before deciding: only what the caller's decision needs, batched, failing closed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pytest

from auth.actor import ANONYMOUS, Actor, ActorKind
from auth.facts import FactSources, load_facts
from sources.errors import FailureKind, SourceFailure, SourceUnavailable
from sources.models import (
    BlockKind,
    BlockRecord,
    PeriodRecord,
    PersonRecord,
    PowerOfAttorneyRecord,
    RelationQuery,
    Sex,
    TreatmentRelationRecord,
)

HANS, BIRTHE, PETER = "1403723705", "2309510372", "0907644021"
OLD_NUMBER, NEW_NUMBER = "1210791545", "1210790806"
OUH, REGION_NORDJYLLAND, NEPHROLOGY = "378631000016009", "248201000016004", "378641000016007"
TODAY = date(2026, 11, 21)
CITIZEN = Actor(ActorKind.CITIZEN, cpr=HANS)
DOCTOR = Actor(ActorKind.PROFESSIONAL, authorization_id="CBDJ6", organisation_sor=NEPHROLOGY)


def person(cpr: str, status: str = "01", replaced_by: str | None = None) -> PersonRecord:
    return PersonRecord(cpr, "Alex Test", "Lund", Sex.UNKNOWN, None, status, None, None, False, replaced_by=replaced_by)


def place(cpr: str, sor: str, subunits: bool = True, validity: PeriodRecord | None = None) -> BlockRecord:
    kind = BlockKind.ORGANISATION
    return BlockRecord(
        f"b-{sor}", cpr, kind, validity or PeriodRecord(), organisation_sor=sor, include_subunits=subunits
    )


@dataclass
class Sources:
    """Fake sources that record every call and can be made to fail."""

    persons: dict[str, PersonRecord] = field(default_factory=dict)
    blocks: dict[str, list[BlockRecord]] = field(default_factory=dict)
    related: set[str] = field(default_factory=set)
    down: set[str] = field(default_factory=set)
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def _call(self, name: str, keys: Sequence[str]) -> None:
        self.calls.append((name, tuple(keys)))
        if name in self.down:
            raise SourceUnavailable(name, "down")

    async def persons_for(self, cprs: Sequence[str]) -> Mapping[str, PersonRecord | None]:
        self._call("cpr", cprs)
        return {c: self.persons.get(c) for c in cprs}

    async def powers_for(self, holder_cpr: str, giver_cprs: Sequence[str]) -> Mapping[str, list[PowerOfAttorneyRecord]]:
        self._call("fuldmagt", giver_cprs)
        return {c: [] for c in giver_cprs}

    async def relations_for(self, queries: Sequence[RelationQuery]) -> Mapping[RelationQuery, TreatmentRelationRecord]:
        self._call("treatment_relation", [q.cpr for q in queries])
        return {q: TreatmentRelationRecord(q, q.cpr in self.related) for q in queries}

    async def blocks_for(self, cprs: Sequence[str]) -> Mapping[str, list[BlockRecord]]:
        self._call("consent", cprs)
        return {c: self.blocks.get(c, []) for c in cprs}

    async def subunits_of(self, sors: Sequence[str]) -> Mapping[str, frozenset[str]]:
        self._call("sor", sors)
        return {s: frozenset({f"{s}-unit"}) for s in sors}

    def wired(self) -> FactSources:
        return FactSources(blocks=self, relations=self, organisations=self, persons=self, powers=self)

    def called(self, name: str) -> list[tuple[str, ...]]:
        return [keys for called, keys in self.calls if called == name]


async def test_an_anonymous_caller_and_a_citizen_reading_their_own_data_load_nothing() -> None:
    sources = Sources()

    await load_facts(ANONYMOUS, [HANS], sources.wired(), TODAY)
    own = await load_facts(CITIZEN, [HANS], sources.wired(), TODAY)

    assert sources.calls == []
    assert own.facts[HANS].person is None


async def test_a_citizen_asking_for_others_reads_cpr_and_fuldmagt_once_for_all_of_them() -> None:
    sources = Sources(persons={BIRTHE: person(BIRTHE), PETER: person(PETER)})

    loaded = await load_facts(CITIZEN, [HANS, BIRTHE, PETER], sources.wired(), TODAY)

    assert sources.called("cpr") == [(BIRTHE, PETER)] and sources.called("fuldmagt") == [(BIRTHE, PETER)]
    assert sources.called("treatment_relation") == sources.called("consent") == []
    assert loaded.facts[PETER].person == person(PETER) and loaded.facts[PETER].powers == ()


async def test_a_professional_reads_relations_and_blocks_in_one_call_each_and_never_cpr() -> None:
    sources = Sources(related={HANS}, blocks={PETER: [place(PETER, OUH, subunits=False)]})

    loaded = await load_facts(DOCTOR, [HANS, PETER], sources.wired(), TODAY)

    assert sources.called("treatment_relation") == [(HANS, PETER)] and sources.called("consent") == [(HANS, PETER)]
    assert sources.called("cpr") == sources.called("sor") == []
    assert loaded.facts[HANS].has_relation is True and loaded.facts[PETER].has_relation is False
    assert loaded.facts[PETER].blocks == (place(PETER, OUH, subunits=False),)


async def test_sub_units_are_looked_up_once_for_the_valid_blocks_that_need_them() -> None:
    expired = PeriodRecord(end=date(2025, 1, 1))
    sources = Sources(
        blocks={
            HANS: [place(HANS, OUH), place(HANS, NEPHROLOGY, validity=expired)],
            PETER: [place(PETER, REGION_NORDJYLLAND), place(PETER, OUH)],
        },
        related={HANS, PETER},
    )

    loaded = await load_facts(DOCTOR, [HANS, PETER], sources.wired(), TODAY)

    assert sources.called("sor") == [tuple(sorted({OUH, REGION_NORDJYLLAND}))]
    assert loaded.facts[HANS].subunits == loaded.facts[PETER].subunits
    assert set(loaded.facts[HANS].subunits or {}) == {OUH, REGION_NORDJYLLAND}


async def test_an_override_spares_the_sub_unit_lookup_for_the_patient_it_lifts() -> None:
    blocks = {HANS: [place(HANS, OUH)], PETER: [place(PETER, REGION_NORDJYLLAND)]}
    sources = Sources(blocks=blocks, related={HANS, PETER})

    await load_facts(DOCTOR, [HANS, PETER], sources.wired(), TODAY, lifted={HANS})

    assert sources.called("sor") == [(REGION_NORDJYLLAND,)]


async def test_no_sub_unit_lookup_for_a_patient_without_a_treatment_relation() -> None:
    """The patient is refused anyway, and the extra call would tell that such a person exists."""
    sources = Sources(blocks={HANS: [place(HANS, OUH)], PETER: [place(PETER, REGION_NORDJYLLAND)]}, related={PETER})

    await load_facts(DOCTOR, [HANS, PETER], sources.wired(), TODAY)

    assert sources.called("sor") == [(REGION_NORDJYLLAND,)]


@pytest.mark.parametrize(
    ("actor", "down", "missing"),
    [
        (DOCTOR, "treatment_relation", "has_relation"),
        (DOCTOR, "consent", "blocks"),
        (DOCTOR, "sor", "subunits"),
        (CITIZEN, "cpr", "person"),
        (CITIZEN, "fuldmagt", "powers"),
    ],
)
async def test_a_source_that_is_down_leaves_its_fact_unknown_and_is_named(
    actor: Actor, down: str, missing: str
) -> None:
    sources = Sources(related={BIRTHE}, blocks={BIRTHE: [place(BIRTHE, OUH)]}, persons={BIRTHE: person(BIRTHE)})
    sources.down.add(down)

    facts = (await load_facts(actor, [BIRTHE], sources.wired(), TODAY)).facts[BIRTHE]

    assert getattr(facts, missing) is None
    assert facts.failure == SourceFailure(down, FailureKind.UNAVAILABLE)


async def test_a_changed_number_is_followed_to_the_current_one_for_a_citizen() -> None:
    sources = Sources(persons={OLD_NUMBER: person(OLD_NUMBER, "60", NEW_NUMBER), NEW_NUMBER: person(NEW_NUMBER)})

    loaded = await load_facts(CITIZEN, [OLD_NUMBER], sources.wired(), TODAY)

    assert loaded.aliases == {OLD_NUMBER: NEW_NUMBER}
    assert set(loaded.facts) == {NEW_NUMBER}
    assert sources.called("cpr") == [(OLD_NUMBER,), (NEW_NUMBER,)]


async def test_an_unexpected_error_in_a_source_is_not_taken_for_an_outage() -> None:
    class Broken(Sources):
        async def blocks_for(self, cprs: Sequence[str]) -> Mapping[str, list[BlockRecord]]:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await load_facts(DOCTOR, [HANS], Broken().wired(), TODAY)
