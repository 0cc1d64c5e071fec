"""The words of Min Log: an access record told in Danish a citizen understands.

Pure functions over :class:`~sources.audit.AccessRecord`, with no GraphQL in them, so the wording
can be read and tested on its own. The texts address the patient whose log it is ("dine aftaler",
"Dig selv"), as sundhed.dk does, also when a representative reads the log. Every enum is worded by
an exhaustive ``match``: a new member does not type-check until it has its words.

Nothing here ever shows the record's ``actor_id`` (a representative's CPR number, an
autorisations-ID or an assistant's user ID), and a name that holds something shaped like a CPR
number is not shown either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import assert_never

from sources.audit import AccessorKind, AccessOutcome, AccessRecord, OverrideGround
from sources.categories import WRITE_CATEGORIES, DataCategory


def category_words(category: DataCategory) -> str:
    """``category`` as plain Danish words, for the entry's ``what``."""
    match category:
        case DataCategory.PERSON:
            return "dine oplysninger fra CPR"
        case DataCategory.GP:
            return "din egen læge"
        case DataCategory.MASTER_CARD:
            return "dit stamkort"
        case DataCategory.REGISTERS:
            return "om du er registreret i testamente- og donorregistrene"
        case DataCategory.REGISTER_DETAILS:
            return "dine registreringer i testamente- og donorregistrene"
        case DataCategory.APPOINTMENTS:
            return "dine aftaler"
        case DataCategory.PLANS:
            return "dine planer"
        case DataCategory.GOALS:
            return "dine mål"
        case DataCategory.DIAGNOSES:
            return "dine diagnoser"
        case DataCategory.ACCESS_LOG:
            return "din log"
        case DataCategory.BLOCKS:
            return "dine spærringer"
        case DataCategory.MASTER_CARD_EDIT:
            return "ændring af dit stamkort"
        case DataCategory.BLOCKS_EDIT:
            return "ændring af dine spærringer"
        case _:
            assert_never(category)


CHANGED: dict[DataCategory, DataCategory] = {
    DataCategory.MASTER_CARD_EDIT: DataCategory.MASTER_CARD,
    DataCategory.BLOCKS_EDIT: DataCategory.BLOCKS,
}
"""A write category → the data it changes ("ændrede dit stamkort")."""


def ground_text(ground: OverrideGround) -> str:
    """Why a professional lifted the patient's blocks (værdispring), told to the patient."""
    match ground:
        case OverrideGround.PATIENT_CONSENT:
            return "Du gav samtykke"
        case OverrideGround.NOT_CONTACTABLE:
            return "Du kunne ikke kontaktes"
        case _:
            assert_never(ground)


_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")
_ORDER = {category: n for n, category in enumerate(DataCategory)}


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who made an access, as the patient's log names them."""

    kind: AccessorKind
    who: str
    """The person's name, "Dig selv", or a plain description when the name is unknown."""
    role: str
    """The role in Danish, capitalised: "Dig", "Værge", "Læge", "Medhjælp for …"."""
    is_patient: bool
    """The patient themselves."""


def safe_name(text: str | None) -> str | None:
    """``text`` stripped, or ``None`` when empty or when it holds something shaped like a CPR number."""
    if text is None or not text.strip() or _CPR_LIKE.search(text):
        return None
    return " ".join(text.split())


def accessor_of(record: AccessRecord) -> Accessor:
    """Who acted, in the patient's words."""
    name = safe_name(record.actor_name)
    kind = record.actor_kind
    match kind:
        case AccessorKind.CITIZEN if record.actor_id in (record.patient_cpr, record.requested_cpr):
            return Accessor(kind, "Dig selv", "Dig", is_patient=True)
        case AccessorKind.CITIZEN:
            return Accessor(kind, name or "En anden borger", "Borger", is_patient=False)
        case AccessorKind.REPRESENTATIVE:
            return Accessor(kind, name or "Din repræsentant", "Din repræsentant med fuldmagt", is_patient=False)
        case AccessorKind.PARENT:
            return Accessor(kind, name or "Din forælder", "Forælder med forældremyndighed", is_patient=False)
        case AccessorKind.GUARDIAN:
            return Accessor(kind, name or "Din værge", "Værge", is_patient=False)
        case AccessorKind.PROFESSIONAL:
            role = _profession(record) or "Sundhedsperson"
            return Accessor(kind, name or f"En {_lower_first(role)}", role, is_patient=False)
        case AccessorKind.ASSISTANT:
            role = f"Medhjælp for {safe_name(record.acting_for_name) or 'en sundhedsperson'}"
            return Accessor(kind, name or f"En {_lower_first(role)}", role, is_patient=False)
        case AccessorKind.SYSTEM:
            profession = _profession(record)
            role = f"{profession} via fagsystem" if profession else "Fagsystem"
            system = safe_name(record.client_id)
            return Accessor(kind, name or (f"Fagsystemet {system}" if system else "Et fagsystem"), role, False)
        case _:
            assert_never(kind)


def in_order(values: Iterable[DataCategory]) -> list[DataCategory]:
    """``values`` once each, in the schema's order."""
    return sorted(set(values), key=_ORDER.__getitem__)


COVERED_BY: dict[DataCategory, DataCategory] = {DataCategory.REGISTERS: DataCategory.REGISTER_DETAILS}
"""A category → one whose data includes it: whether a registration exists is part of its content, so a
sentence naming the content does not name the registers a second time."""


def told(categories: Iterable[DataCategory]) -> list[DataCategory]:
    """``categories`` in order, without those another of them covers (:data:`COVERED_BY`): each is told once."""
    present = set(categories)
    return [c for c in in_order(present) if COVERED_BY.get(c) not in present]


def words_for(values: Iterable[DataCategory]) -> list[str]:
    """``values`` as plain Danish words, once each, in the schema's order; a covered category is left out."""
    return list(dict.fromkeys(category_words(c) for c in told(values)))


def summary_of(record: AccessRecord, accessor: Accessor) -> str:
    """One Danish sentence telling the patient what happened (then the override, when one lifted a block)."""
    subject = _subject(record, accessor)
    denied = in_order(record.denied)
    outcome = record.outcome
    match outcome:
        case AccessOutcome.ACCESSED:
            sentence = f"{subject} {_did(in_order(record.returned))}"
            if denied:
                sentence += f", men fik ikke adgang til {join(words_for(denied))}"
        case AccessOutcome.REFUSED if denied:
            sentence = f"{subject} forsøgte at {_verbs(denied)}, men fik ikke adgang"
        case AccessOutcome.REFUSED:
            sentence = f"{subject} forsøgte at åbne dit overblik, men fik ikke adgang"
        case AccessOutcome.NOTHING if record.requested:
            sentence = f"{subject} {_found_nothing(in_order(record.requested))}"
        case AccessOutcome.NOTHING:
            sentence = f"{subject} åbnede dit overblik, men så ingen oplysninger"
        case AccessOutcome.UNCONFIRMED:
            sentence = f"{subject} {_attempted(record)}"
        case _:
            assert_never(outcome)
    sentence += "."
    withheld = in_order(record.withheld)
    if withheld and not accessor.is_patient:
        sentence += f" Dine spærringer begrænsede, hvad der blev vist af {join(words_for(withheld))}."
    if record.override_ground is not None:
        sentence += " " + override_sentence(record.override_ground, record.override_reason)
    return sentence


def override_sentence(ground: OverrideGround, reason: str | None) -> str:
    """The override (værdispring) that lifted a block: its ground and the professional's reason, as written."""
    text = f"Spærringen blev brudt (værdispring): {ground_text(ground)}"
    reason = " ".join((reason or "").split())
    if reason:
        text += f' \N{EN DASH} "{reason}"'
    return text + "."


def join(words: list[str]) -> str:
    """Danish enumeration: "a", "a og b", "a, b og c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} og {words[-1]}"


def _relation(kind: AccessorKind) -> str | None:
    """How a citizen acting on the patient is related to them; ``None`` for clinical callers."""
    match kind:
        case AccessorKind.CITIZEN:
            return "en anden borger"
        case AccessorKind.REPRESENTATIVE:
            return "din repræsentant med fuldmagt"
        case AccessorKind.PARENT:
            return "din forælder med forældremyndighed"
        case AccessorKind.GUARDIAN:
            return "din værge"
        case AccessorKind.PROFESSIONAL | AccessorKind.ASSISTANT | AccessorKind.SYSTEM:
            return None
        case _:
            assert_never(kind)


def _subject(record: AccessRecord, accessor: Accessor) -> str:
    if accessor.is_patient:
        return "Du"
    if relation := _relation(accessor.kind):
        name = safe_name(record.actor_name)
        return f"{name} ({relation})" if name else relation[0].upper() + relation[1:]
    # professionals, assistants and systems: role (unless the name is unknown and says it), place, system
    named = safe_name(record.actor_name) is not None
    role = accessor.role.removesuffix(" via fagsystem")
    details = [_lower_first(role)] if named and role != "Fagsystem" else []
    if organisation := safe_name(record.organisation_name):
        details.append(organisation)
    if named and accessor.kind is AccessorKind.SYSTEM and (system := safe_name(record.client_id)):
        details.append(f"via fagsystemet {system}")
    return f"{accessor.who} ({', '.join(details)})" if details else accessor.who


def _split(categories: list[DataCategory]) -> tuple[list[str], list[str]]:
    """The words of what was changed and of what was read; data a change names is not told as read too."""
    writes = [c for c in categories if c in WRITE_CATEGORIES]
    changed = {CHANGED[c] for c in writes if c in CHANGED}
    reads = words_for(c for c in categories if c not in WRITE_CATEGORIES and c not in changed)
    return [_changed_words(c) for c in writes], reads


def _did(returned: list[DataCategory]) -> str:
    writes, reads = _split(returned)
    parts = (["ændrede " + join(writes)] if writes else []) + (["så " + join(reads)] if reads else [])
    return " og ".join(parts)


def _verbs(categories: list[DataCategory]) -> str:
    writes, reads = _split(categories)
    parts = (["se " + join(reads)] if reads else []) + (["ændre " + join(writes)] if writes else [])
    return " og ".join(parts)


def _found_nothing(requested: list[DataCategory]) -> str:
    if any(c in WRITE_CATEGORIES for c in requested):
        return f"forsøgte at {_verbs(requested)}, men intet blev ændret"
    return f"søgte efter {join(words_for(requested))}, men fandt intet"


def _attempted(record: AccessRecord) -> str:
    """A change whose outcome is not confirmed: what was to be changed, and what else was shown."""
    settled = {*record.returned, *record.denied}
    open_ = [c for c in in_order(record.requested) if c in WRITE_CATEGORIES and c not in settled]
    text = f"forsøgte at ændre {join([_changed_words(c) for c in open_])}, men det er ikke bekræftet, om det lykkedes"
    if record.returned:
        text += f", og {_did(in_order(record.returned))}"
    return text


def _changed_words(category: DataCategory) -> str:
    return category_words(CHANGED.get(category, category))


def _profession(record: AccessRecord) -> str | None:
    profession = safe_name(record.profession)
    return profession[0].upper() + profession[1:] if profession else None


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if text else text
