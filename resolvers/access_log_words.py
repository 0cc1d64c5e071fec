"""The words of Min Log: an access record told in Danish a citizen understands.

Pure functions over :class:`~sources.audit.AccessRecord`, with no GraphQL in them, so the wording
can be read and tested on its own. The texts address the patient whose log it is ("dine aftaler",
"Dig selv"), as sundhed.dk does, also when a representative reads the log.

Nothing here ever shows the record's ``actor_id`` (a representative's CPR number, an
autorisations-ID or an assistant's user ID), and a name that holds something shaped like a CPR
number is not shown either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sources.audit import AccessorKind, AccessRecord, OverrideGround
from sources.categories import WRITE_CATEGORIES, DataCategory

WORDS: dict[DataCategory, str] = {
    DataCategory.PERSON: "dine oplysninger fra CPR",
    DataCategory.GP: "din egen læge",
    DataCategory.MASTER_CARD: "dit stamkort",
    DataCategory.REGISTERS: "om du er registreret i testamente- og donorregistrene",
    DataCategory.REGISTER_DETAILS: "dine registreringer i testamente- og donorregistrene",
    DataCategory.APPOINTMENTS: "dine aftaler",
    DataCategory.PLANS: "dine planer",
    DataCategory.GOALS: "dine mål",
    DataCategory.DIAGNOSES: "dine diagnoser",
    DataCategory.ACCESS_LOG: "din log",
    DataCategory.BLOCKS: "dine spærringer",
    DataCategory.MASTER_CARD_EDIT: "ændring af dit stamkort",
    DataCategory.BLOCKS_EDIT: "ændring af dine spærringer",
}
"""Each category as plain Danish words, for the entry's ``what``."""

UNKNOWN_WORDS = "andre oplysninger om dig"
"""A category this gateway version does not know (a newer record)."""

CHANGED: dict[DataCategory, DataCategory] = {
    DataCategory.MASTER_CARD_EDIT: DataCategory.MASTER_CARD,
    DataCategory.BLOCKS_EDIT: DataCategory.BLOCKS,
}
"""A write category → the data it changes ("ændrede dit stamkort")."""

GROUND_TEXTS: dict[OverrideGround, str] = {
    OverrideGround.PATIENT_CONSENT: "Du gav samtykke",
    OverrideGround.NOT_CONTACTABLE: "Du kunne ikke kontaktes",
}
"""Why a professional lifted the patient's blocks (værdispring), told to the patient."""

_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")
_ORDER = {category: n for n, category in enumerate(DataCategory)}


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who made an access, as the patient's log names them."""

    kind: AccessorKind | None
    """``None`` for a kind this gateway does not know (an unauthenticated attempt, a newer record)."""
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
    try:
        kind: AccessorKind | None = AccessorKind(record.actor_kind)
    except ValueError:
        kind = None
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
            return Accessor(None, "En ukendt bruger", "Ukendt", is_patient=False)


def known_categories(values: Iterable[str]) -> list[DataCategory]:
    """The categories this gateway knows among ``values``, once each, in the schema's order."""
    found = set()
    for value in values:
        try:
            found.add(DataCategory(value))
        except ValueError:
            continue
    return sorted(found, key=_ORDER.__getitem__)


def words_for(values: Iterable[str]) -> list[str]:
    """``values`` (category names) as plain Danish words, once each, in the schema's order."""
    values = list(values)
    words = [WORDS[c] for c in known_categories(values)]
    if any(v not in _ORDER for v in values):
        words.append(UNKNOWN_WORDS)
    return words


def ground_of(record: AccessRecord) -> OverrideGround | None:
    """The override ground of ``record``, when it holds one this gateway knows."""
    try:
        return OverrideGround(record.override_ground) if record.override_ground else None
    except ValueError:
        return None


def summary_of(record: AccessRecord, accessor: Accessor) -> str:
    """One Danish sentence telling the patient what happened (then the override, when there was one)."""
    subject = _subject(record, accessor)
    returned = known_categories(record.returned)
    unknown = [v for v in record.returned if v not in _ORDER]
    denied = [*known_categories(record.denied), *(v for v in record.denied if v not in _ORDER)]
    if returned or unknown:
        sentence = f"{subject} {_did(returned, unknown)}"
        if denied:
            sentence += f", men fik ikke adgang til {join(words_for(denied))}"
    elif denied:
        sentence = f"{subject} forsøgte at {_verbs(denied)}, men fik ikke adgang"
    elif record.requested:
        sentence = f"{subject} {_found_nothing(record.requested)}"
    else:
        sentence = f"{subject} åbnede dit overblik, men så ingen oplysninger"
    sentence += "."
    withheld = known_categories(record.withheld)
    if withheld and not accessor.is_patient:
        sentence += f" Dine spærringer begrænsede, hvad der blev vist af {join([WORDS[c] for c in withheld])}."
    if record.override_ground:
        sentence += " " + override_sentence(record)
    return sentence


def override_sentence(record: AccessRecord) -> str:
    """The override (værdispring): its ground and the professional's reason, as written."""
    ground = ground_of(record)
    text = "Spærringen blev brudt (værdispring)"
    if ground is not None:
        text += f": {GROUND_TEXTS[ground]}"
    reason = " ".join((record.override_reason or "").split())
    if reason:
        text += f' \N{EN DASH} "{reason}"'
    return text + "."


def join(words: list[str]) -> str:
    """Danish enumeration: "a", "a og b", "a, b og c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} og {words[-1]}"


_RELATIONS = {
    AccessorKind.CITIZEN: "en anden borger",
    AccessorKind.REPRESENTATIVE: "din repræsentant med fuldmagt",
    AccessorKind.PARENT: "din forælder med forældremyndighed",
    AccessorKind.GUARDIAN: "din værge",
}


def _subject(record: AccessRecord, accessor: Accessor) -> str:
    if accessor.is_patient:
        return "Du"
    if accessor.kind is None:
        return f"{accessor.who} (ikke logget ind)" if record.actor_kind == "anonymous" else accessor.who
    if relation := _RELATIONS.get(accessor.kind):
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


def _did(returned: list[DataCategory], unknown: list[str]) -> str:
    writes = [c for c in returned if c in WRITE_CATEGORIES]
    changed = {CHANGED[c] for c in writes if c in CHANGED}
    reads = [WORDS[c] for c in returned if c not in WRITE_CATEGORIES and c not in changed]
    if unknown:
        reads.append(UNKNOWN_WORDS)
    parts = []
    if writes:
        parts.append("ændrede " + join([_changed_words(c) for c in writes]))
    if reads:
        parts.append("så " + join(reads))
    return " og ".join(parts)


def _verbs(values: list[str]) -> str:
    known = known_categories(values)
    writes = [_changed_words(c) for c in known if c in WRITE_CATEGORIES]
    reads = [WORDS[c] for c in known if c not in WRITE_CATEGORIES]
    if any(v not in _ORDER for v in values):
        reads.append(UNKNOWN_WORDS)
    parts = (["se " + join(reads)] if reads else []) + (["ændre " + join(writes)] if writes else [])
    return " og ".join(parts)


def _found_nothing(requested: Iterable[str]) -> str:
    requested = list(requested)
    if any(c in WRITE_CATEGORIES for c in known_categories(requested)):
        return f"forsøgte at {_verbs(requested)}, men intet blev ændret"
    return f"søgte efter {join(words_for(requested))}, men fandt intet"


def _changed_words(category: DataCategory) -> str:
    return WORDS[CHANGED[category]] if category in CHANGED else WORDS[category]


def _profession(record: AccessRecord) -> str | None:
    profession = safe_name(record.profession)
    return profession[0].upper() + profession[1:] if profession else None


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if text else text
