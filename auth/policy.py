"""The decision table: who may see which category of which patient.

Pure functions over the actor, the requested categories and the facts the gate loaded (treatment
relation, blocks). ``domain.md`` §2 is the source of the rules; this module implements:

- anonymous callers see no patient data (``UNAUTHENTICATED``);
- a citizen sees their own overview and nobody else's (``FORBIDDEN``);
- a professional needs a current treatment relation (``FORBIDDEN`` without one) and is denied
  everything when the patient has blocked them by name (``CONSENT_DENIED``);
- a professional's shared categories (appointments, plans, goals, diagnoses) are narrowed by the
  patient's blocks on treatment places (with sub-units when the block says so) and on data
  periods, each valid on the day of the request; the decision carries the filter and a
  ``withheld`` flag, never what was held back;
- when a source the decision needs is down, access fails closed (``SOURCE_UNAVAILABLE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from auth.actor import Actor, ActorKind
from auth.plan import ALLOW, Decision, Denial, PatientAccess, Verdict, deny
from sources.categories import SHARED_CATEGORIES, DataCategory
from sources.clinical import BlockRule, ItemFilter
from sources.models import BlockKind, BlockRecord


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What the gate loaded about one patient for a professional's decision.

    ``None`` means the source could not answer; ``source`` then names it.
    """

    has_relation: bool | None = None
    blocks: tuple[BlockRecord, ...] | None = None
    failed_source: str | None = None
    subunits: Mapping[str, frozenset[str]] | None = None
    """Each blocked organisation's SOR code → itself and all its sub-units (``None``: not loaded)."""


def decide(
    actor: Actor,
    cpr: str,
    categories: Iterable[DataCategory],
    facts: DecisionFacts,
    today: date,
) -> PatientAccess:
    """Decide every requested category of patient ``cpr`` for ``actor``."""
    requested = frozenset(categories)
    patient = _patient_decision(actor, cpr, facts, today)
    decisions: dict[DataCategory, Decision] = {}
    if patient.allowed:
        shared = _shared_decision(actor, facts, today)
        decisions = {c: shared if c in SHARED_CATEGORIES else ALLOW for c in requested}
    return PatientAccess(cpr, patient, decisions, requested)


def _shared_decision(actor: Actor, facts: DecisionFacts, today: date) -> Decision:
    """The decision for shared data: the patient's place and period blocks, as a filter."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        return ALLOW
    rules: list[BlockRule] = []
    for block in active_place_blocks(facts.blocks or (), today):
        organisations: frozenset[str] | None = None
        whole = False
        if block.kind is BlockKind.ORGANISATION:
            assert block.organisation_sor is not None
            if block.include_subunits:
                if facts.subunits is None or block.organisation_sor not in facts.subunits:
                    source = facts.failed_source or "sor"
                    return deny(
                        Denial.SOURCE_UNAVAILABLE, "blocks cannot be applied while a source is unavailable", source
                    )
                organisations = facts.subunits[block.organisation_sor] | {block.organisation_sor}
                whole = True
            else:
                organisations = frozenset({block.organisation_sor})
        rules.append(BlockRule(organisations, block.data_period, whole))
    if not rules:
        return ALLOW
    return Decision(Verdict.ALLOW, withheld=True, item_filter=ItemFilter(tuple(rules)))


def active_place_blocks(blocks: Iterable[BlockRecord], today: date) -> list[BlockRecord]:
    """Blocks on treatment places and data periods that are valid ``today``."""
    return [
        b
        for b in blocks
        if b.kind in (BlockKind.ORGANISATION, BlockKind.DATA_PERIOD)
        and b.validity.contains(today)
        and (b.organisation_sor is not None or b.data_period is not None)
    ]


def organisations_needing_subunits(blocks: Iterable[BlockRecord], today: date) -> set[str]:
    """The blocked organisations whose sub-units the decision needs."""
    return {
        b.organisation_sor
        for b in active_place_blocks(blocks, today)
        if b.kind is BlockKind.ORGANISATION and b.include_subunits and b.organisation_sor is not None
    }


def _patient_decision(actor: Actor, cpr: str, facts: DecisionFacts, today: date) -> Decision:
    match actor.kind:
        case ActorKind.CITIZEN:
            if actor.cpr == cpr:
                return ALLOW
            return deny(Denial.FORBIDDEN, "a citizen can see only their own overview")
        case ActorKind.PROFESSIONAL:
            return _professional_decision(actor, facts, today)
        case _:
            return deny(Denial.UNAUTHENTICATED, "patient data needs a verified bearer token")


def _professional_decision(actor: Actor, facts: DecisionFacts, today: date) -> Decision:
    if facts.has_relation is None or facts.blocks is None:
        source = facts.failed_source or "treatment_relation"
        return deny(Denial.SOURCE_UNAVAILABLE, "access cannot be decided while a source is unavailable", source)
    if not facts.has_relation:
        return deny(Denial.FORBIDDEN, "no current treatment relation to this patient")
    for block in facts.blocks:
        if _blocks_professional(block, actor, today):
            return deny(Denial.CONSENT_DENIED, "the patient has blocked your access (Min Spærring)")
    return ALLOW


def _blocks_professional(block: BlockRecord, actor: Actor, today: date) -> bool:
    return (
        block.kind is BlockKind.PROFESSIONAL
        and block.authorization_id is not None
        and block.authorization_id.upper() == actor.authorization_id
        and block.validity.contains(today)
    )


def needs_facts(actor: Actor) -> bool:
    """Whether deciding for ``actor`` needs the treatment relation and blocks."""
    return actor.kind is ActorKind.PROFESSIONAL
