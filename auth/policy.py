"""The decision table: who may see which category of which patient.

Pure functions over the actor, the requested categories and the facts the gate loaded (treatment
relation, blocks). ``domain.md`` §2 is the source of the rules; this module implements:

- anonymous callers see no patient data (``UNAUTHENTICATED``);
- a citizen sees their own overview and nobody else's (``FORBIDDEN``);
- a professional needs a current treatment relation (``FORBIDDEN`` without one) and is denied
  everything when the patient has blocked them by name (``CONSENT_DENIED``);
- when a source the decision needs is down, access fails closed (``SOURCE_UNAVAILABLE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from auth.actor import Actor, ActorKind
from auth.plan import ALLOW, Decision, Denial, PatientAccess, deny
from sources.categories import DataCategory
from sources.models import BlockKind, BlockRecord


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What the gate loaded about one patient for a professional's decision.

    ``None`` means the source could not answer; ``source`` then names it.
    """

    has_relation: bool | None = None
    blocks: tuple[BlockRecord, ...] | None = None
    failed_source: str | None = None


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
    decisions = dict.fromkeys(requested, ALLOW) if patient.allowed else {}
    return PatientAccess(cpr, patient, decisions, requested)


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
