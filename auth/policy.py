"""The decision table: who may see or change which category of which patient.

Pure functions over the actor, the requested categories, an optional override and the facts the
gate loaded. ``domain.md`` §2 is the source of the rules; ADR 0006 records the choices. In short:

- anonymous callers see no patient data (``UNAUTHENTICATED``);
- a citizen sees and changes everything of their own; for another patient they need a
  representation the sources confirm: a digital power of attorney (fuldmagt, within its scopes), a
  guardianship (værge, as CPR records it) or custody (forældremyndighed) of a child under 15 (the
  limited scope of :data:`PARENT_CATEGORIES`, ending on the 15th birthday); otherwise ``FORBIDDEN``;
- a professional, an assistant acting for one, or a system acting for one needs a current treatment
  relation (``FORBIDDEN`` without one) and sees :data:`CLINICAL_CATEGORIES` only; a block on the
  professional by name denies the shared categories (``CONSENT_DENIED``, overridable) and, only when
  the setting says stamkort sharing is blockable, the master data too; blocks on treatment places and
  data periods narrow the shared categories (a filter plus ``withheld``);
- an override (værdispring) with a ground and a reason lifts every block for this request; only an
  authorised professional (not an assistant, not a citizen) may send one. The decision keeps the
  override (for the access record) only when it lifted a block on something the request asked for
  (ADR 0007): a refused override, or one that found nothing blocked, leaves no trace in the log;
- when a source the decision needs fails, access fails closed with the code of how it failed
  (``SOURCE_UNAVAILABLE``, ``SOURCE_TIMEOUT``, ``SOURCE_INVALID_RESPONSE``, ``SOURCE_INCOMPLETE``); a patient
  the sources do not know is refused exactly like one the caller may not see (no existence oracle);
- a protected person's name, address and whereabouts (``sees_protected``) go to the citizen, their
  guardians and fuldmagt holders and clients registered as authorities; professionals, assistants,
  other systems and parents with custody get placeholders (CPR's rule; ADR 0006, ADR 0012).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import assert_never

from auth.actor import Actor, ActorKind
from auth.plan import ALLOW, Decision, Denial, Override, PatientAccess, Verdict, deny, source_failed
from sources.audit import AccessorKind
from sources.categories import MASTER_DATA_CATEGORIES, SHARED_CATEGORIES, DataCategory
from sources.clinical import BlockRule, ItemFilter
from sources.errors import FailureKind, SourceFailure
from sources.models import BlockKind, BlockRecord, PersonRecord, PowerOfAttorneyRecord

ALL_CATEGORIES = frozenset(DataCategory)
CLINICAL_CATEGORIES = MASTER_DATA_CATEGORIES | SHARED_CATEGORIES
"""What a professional with a treatment relation may see (registrations as yes/no only) and change."""
PARENT_CATEGORIES = frozenset(
    {
        DataCategory.PERSON,
        DataCategory.GP,
        DataCategory.MASTER_CARD,
        DataCategory.APPOINTMENTS,
        DataCategory.ACCESS_LOG,
    }
)
"""A parent's limited view of a child under 15, as sundhed.dk gives parents (no journal data)."""
FULDMAGT_SCOPES: Mapping[str, frozenset[DataCategory]] = {
    "overview": ALL_CATEGORIES
    - {DataCategory.ACCESS_LOG, DataCategory.BLOCKS, DataCategory.BLOCKS_EDIT, DataCategory.MASTER_CARD_EDIT},
    "master_card": MASTER_DATA_CATEGORIES,
    "access_log": frozenset({DataCategory.ACCESS_LOG}),
    "blocks": frozenset({DataCategory.BLOCKS, DataCategory.BLOCKS_EDIT}),
}
"""What each scope of a digital power of attorney grants."""
CUSTODY_ENDS_AT_AGE = 15


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What the gate loaded about one patient. ``None`` means not loaded or the source failed."""

    has_relation: bool | None = None
    blocks: tuple[BlockRecord, ...] | None = None
    failure: SourceFailure | None = None
    """The first decision input that failed (which source, how); ``None`` when none did."""
    subunits: Mapping[str, frozenset[str]] | None = None
    """Each blocked organisation's SOR code → itself and all its sub-units (``None``: not loaded)."""
    person: PersonRecord | None = None
    """The patient's CPR record (custody holders, guardians, birth date)."""
    powers: tuple[PowerOfAttorneyRecord, ...] | None = None
    """The caller's powers of attorney from this patient."""


@dataclass(frozen=True, slots=True)
class PolicyOptions:
    """Settings that change the rules."""

    stamkort_blockable: bool = False
    """Whether a block on a professional also hides the master data (the rule before 1 December 2024)."""
    authority: bool = False
    """The calling client is registered as a whitelisted authority: it sees protected names and addresses."""


def decide(
    actor: Actor,
    cpr: str,
    categories: Iterable[DataCategory],
    facts: DecisionFacts,
    today: date,
    *,
    override: Override | None = None,
    options: PolicyOptions = PolicyOptions(),
) -> PatientAccess:
    """Decide every requested category of patient ``cpr`` for ``actor``."""
    requested = frozenset(categories)
    if override is not None and not may_override(actor) and actor.kind is not ActorKind.ANONYMOUS:
        # refused before anything is asked; the override is not kept, so it reaches no record
        return PatientAccess(cpr, OVERRIDE_NOT_ALLOWED, {}, requested, accessor=accessor_of(actor))
    kind = actor.kind
    match kind:
        case ActorKind.ANONYMOUS:
            return PatientAccess(cpr, UNAUTHENTICATED, {}, requested)
        case ActorKind.CITIZEN:
            return _citizen(actor, cpr, requested, facts, today)
        case ActorKind.PROFESSIONAL | ActorKind.SYSTEM:
            return _clinical(actor, cpr, requested, facts, today, override, options)
        case _:
            assert_never(kind)


UNAUTHENTICATED = deny(Denial.UNAUTHENTICATED, "patient data needs a verified bearer token")
"""Every patient, for a caller without a token: decided before anything is loaded."""
OVERRIDE_NOT_ALLOWED = deny(
    Denial.FORBIDDEN, "only an authorised health professional can override blocks (værdispring)"
)
"""A patient for whom a caller who may not override sent an override."""


def may_override(actor: Actor) -> bool:
    """Only an authorised professional (directly or through a system) may override; never an assistant."""
    return actor.is_clinical and actor.assistant is None


def accessor_of(actor: Actor) -> AccessorKind | None:
    """How the caller is named in an access record before a representation is known (citizens: as
    themselves); ``None`` for a caller without a token, who never leaves an access record."""
    kind = actor.kind
    match kind:
        case ActorKind.CITIZEN:
            return AccessorKind.CITIZEN
        case ActorKind.SYSTEM:
            return AccessorKind.SYSTEM
        case ActorKind.PROFESSIONAL:
            return AccessorKind.ASSISTANT if actor.assistant is not None else AccessorKind.PROFESSIONAL
        case ActorKind.ANONYMOUS:
            return None
        case _:
            assert_never(kind)


def _citizen(
    actor: Actor, cpr: str, requested: frozenset[DataCategory], facts: DecisionFacts, today: date
) -> PatientAccess:
    if actor.cpr == cpr:
        return PatientAccess(
            cpr, ALLOW, dict.fromkeys(requested, ALLOW), requested, accessor=AccessorKind.CITIZEN, sees_protected=True
        )
    grants = representation_grants(actor.cpr or "", facts, today)
    if not grants:
        refused = _no_representation(actor.cpr or "", facts, today)
        return PatientAccess(cpr, refused, {}, requested, accessor=AccessorKind.CITIZEN)
    accessor = next(k for k in REPRESENTATION_KINDS if k in grants)
    allowed = frozenset().union(*grants.values())
    outside = deny(Denial.FORBIDDEN, "your representation of this patient does not cover this data")
    decisions = {c: ALLOW if c in allowed else outside for c in requested}
    sees = bool(SEES_PROTECTED & grants.keys())
    return PatientAccess(cpr, ALLOW, decisions, requested, accessor=accessor, sees_protected=sees)


REPRESENTATION_KINDS = (AccessorKind.GUARDIAN, AccessorKind.REPRESENTATIVE, AccessorKind.PARENT)
"""The kinds of representation, strongest first (the accessor named in the record)."""
SEES_PROTECTED = frozenset({AccessorKind.GUARDIAN, AccessorKind.REPRESENTATIVE})
"""Representations that see a protected person's name and address; a parent does not (ADR 0012)."""


def representation_grants(
    holder: str, facts: DecisionFacts, today: date
) -> dict[AccessorKind, frozenset[DataCategory]]:
    """What ``holder`` may do for the patient, by kind of representation the sources confirm."""
    grants: dict[AccessorKind, frozenset[DataCategory]] = {}
    person = facts.person
    if person is not None and holder in person.guardians:
        grants[AccessorKind.GUARDIAN] = ALL_CATEGORIES
    scopes = {s for p in facts.powers or () if p.holder_cpr == holder and p.validity.contains(today) for s in p.scopes}
    if scopes:
        grants[AccessorKind.REPRESENTATIVE] = frozenset().union(*(FULDMAGT_SCOPES.get(s, frozenset()) for s in scopes))
    if person is not None and holder in person.custody_holders and is_under(person, CUSTODY_ENDS_AT_AGE, today):
        grants[AccessorKind.PARENT] = PARENT_CATEGORIES
    return {kind: granted for kind, granted in grants.items() if granted}


def is_under(person: PersonRecord, age: int, today: date) -> bool:
    """Whether ``person`` has not yet had their ``age``th birthday (unknown birth date: not under)."""
    born = person.birth_date
    if born is None:
        return False
    return today < birthday(born, age)


def birthday(born: date, age: int) -> date:
    """The ``age``th birthday of someone born on ``born`` (29 February: 1 March in a common year)."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return date(born.year + age, 3, 1)


def _no_representation(holder: str, facts: DecisionFacts, today: date) -> Decision:
    """Why a citizen without a confirmed representation is refused.

    Only a source that failed makes it a source failure (coded by how it failed); a number CPR does not know is refused
    like any other patient the citizen does not represent, so the answer does not tell whether the
    person exists.
    """
    person = facts.person
    if person is not None and holder in person.custody_holders:
        return deny(Denial.FORBIDDEN, "a parent's access ends on the child's 15th birthday")
    if facts.failure is not None or facts.powers is None:
        failure = facts.failure or SourceFailure("fuldmagt", FailureKind.UNAVAILABLE)
        return source_failed("representation cannot be checked while a source is unavailable", failure)
    return NOT_REPRESENTED


NOT_REPRESENTED = deny(Denial.FORBIDDEN, "a citizen can see only their own overview and those they represent")
"""A citizen asking about a patient they do not represent, whether or not the patient exists."""


def _clinical(
    actor: Actor,
    cpr: str,
    requested: frozenset[DataCategory],
    facts: DecisionFacts,
    today: date,
    override: Override | None,
    options: PolicyOptions,
) -> PatientAccess:
    access = PatientAccess(cpr, ALLOW, {}, requested, accessor=accessor_of(actor), sees_protected=options.authority)
    if facts.has_relation is None or facts.blocks is None:
        failure = facts.failure or SourceFailure("treatment_relation", FailureKind.UNAVAILABLE)
        access.patient = source_failed("access cannot be decided while a source is unavailable", failure)
        return access
    if not facts.has_relation:
        access.patient = deny(Denial.FORBIDDEN, "no current treatment relation to this patient")
        return access
    named_block = any(_blocks_professional(b, actor, today) for b in facts.blocks)
    blockable = SHARED_CATEGORIES | (MASTER_DATA_CATEGORIES if options.stamkort_blockable else frozenset())
    place_blocked = bool(active_place_blocks(facts.blocks, today))
    if override is not None:
        lifted = (named_block and requested & blockable) or (place_blocked and requested & SHARED_CATEGORIES)
        access.override = override if lifted else None
    named = named_block and override is None
    shared = ALLOW if override is not None else _shared_decision(facts, today)
    blocked = Decision(
        Verdict.DENY,
        Denial.CONSENT_DENIED,
        "the patient has blocked your access (Min Spærring)",
        withheld=True,
        overridable=may_override(actor),
    )
    outside = deny(Denial.FORBIDDEN, "this is for the citizen and their representatives only")
    for category in requested:
        if category not in CLINICAL_CATEGORIES:
            access.categories[category] = outside
        elif named and category in blockable:
            access.categories[category] = blocked
        else:
            access.categories[category] = shared if category in SHARED_CATEGORIES else ALLOW
    return access


def _shared_decision(facts: DecisionFacts, today: date) -> Decision:
    """The decision for shared data: the patient's place and period blocks, as a filter."""
    rules: list[BlockRule] = []
    for block in active_place_blocks(facts.blocks or (), today):
        organisations: frozenset[str] | None = None
        whole = False
        if block.kind is BlockKind.ORGANISATION and block.unmatchable:
            pass  # whom it is against cannot be told: it applies to every organisation (fail closed)
        elif block.kind is BlockKind.ORGANISATION:
            assert block.organisation_sor is not None
            if block.include_subunits:
                if facts.subunits is None or block.organisation_sor not in facts.subunits:
                    failure = facts.failure or SourceFailure("sor", FailureKind.UNAVAILABLE)
                    return source_failed("blocks cannot be applied while a source is unavailable", failure)
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
        and (b.organisation_sor is not None or b.data_period is not None or b.unmatchable)
    ]


def organisations_needing_subunits(blocks: Iterable[BlockRecord], today: date) -> set[str]:
    """The blocked organisations whose sub-units the decision needs."""
    return {
        b.organisation_sor
        for b in active_place_blocks(blocks, today)
        if b.kind is BlockKind.ORGANISATION and b.include_subunits and b.organisation_sor is not None
    }


def _blocks_professional(block: BlockRecord, actor: Actor, today: date) -> bool:
    """A block on this professional by name: both IDs in normal form; an unmatchable one names everyone."""
    return block.names_professional(actor.authorization_id) and block.validity.contains(today)
