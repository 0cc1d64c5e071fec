"""What name and address protection must hide of a sandbox patient, per protected field, from the population.

The texts are worked out from the sandbox's own data (the person, the master card, the GP practice,
the clinical items at places that are not a region's, the blocks), independently of the gateway; the
professional named in the access log is added by the tests that make that access.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.appointments import organisation_address
from sandbox.population import Address, Population
from tests.protected_schema import texts, values_at

PLACEHOLDER = "ADRESSEBESKYTTET"


def _line(address: Address | None) -> set[str]:
    return {address.line} if address is not None else set()


def protected_details(population: Population, cpr: str, accessors: Iterable[str] = ()) -> dict[str, set[str]]:
    """``Type.field`` → texts the field shows the patient and protection hides from others.

    ``accessors`` are names and places of professionals who accessed the patient (their access log).
    """
    person, card = population.persons[cpr], population.master_cards[cpr]
    practice = population.practices[person.ydernummer or ""]
    world = population.clinical

    def revealing(sors: Iterable[str]) -> set[str]:
        """Names and SOR codes of the places among ``sors`` that are not a region's (a hospital is shown)."""
        found = {s for s in sors if world.organisation(s).kind != "region"}
        return found | {world.organisation(s).name for s in found}

    visits = [a for a in world.appointments if a.cpr == cpr]
    plans = [p for p in world.care_plans if p.cpr == cpr]
    places = {a.organisation_sor for a in visits if not a.at_home} - {
        s for s in world.organisations if world.organisation(s).kind == "region"
    }
    details = {
        "Patient.person": {person.given_name, person.family_name, *_line(person.address)},
        "Patient.generalPractitioner": {
            practice.name,
            practice.sor,
            practice.ydernummer,
            practice.phone,
            practice.address.line,
            *(d.name for d in practice.doctors),
        },
        "MasterCard.phone": {card.phone} if card.phone else set(),
        "MasterCard.temporaryAddress": _line(card.temporary_address),
        "MasterCard.dentist": {card.dentist} if card.dentist else set(),
        "MasterCard.relatives": {t for r in card.relatives for t in (r.first_name, r.surname, r.phone) if t},
        "Appointment.organisation": revealing(a.organisation_sor for a in visits),
        "Appointment.location": (_line(person.address) if any(a.at_home for a in visits) else set())
        | {(organisation_address(population, s) or "").partition(",")[0] for s in places},
        "CarePlan.organisation": revealing(p.organisation_sor for p in plans),
        "Intervention.performer": revealing(i.performer_sor for p in plans for i in p.interventions),
        "Goal.organisation": revealing(g.organisation_sor for g in world.goals if g.cpr == cpr),
        "Diagnosis.organisation": revealing(c.organisation_sor for c in world.conditions if c.cpr == cpr),
        "Patient.accessLog": set(accessors),
        "Block.authorizationId": {b.authorization_id for b in population.blocks if b.cpr == cpr and b.authorization_id},
        "Block.organisationSorId": {
            b.organisation_sor for b in population.blocks if b.cpr == cpr and b.organisation_sor
        },
    }
    return {coordinate: found - {""} for coordinate, found in details.items()}


def shown_at(answer: Mapping[str, Any]) -> dict[str, set[str]]:
    """``Type.field`` → every text a patient's answer shows under that protected field."""
    found: dict[str, set[str]] = {}
    for coordinate, value in values_at(answer):
        found.setdefault(coordinate, set()).update(texts(value))
    return found


def missing(details: Mapping[str, set[str]], answer: Mapping[str, Any]) -> dict[str, set[str]]:
    """The details the answer does not show where they belong (each a part of a text there)."""
    shown = shown_at(answer)
    gaps = {c: {d for d in found if not any(d in t for t in shown.get(c, ()))} for c, found in details.items()}
    return {c: gap for c, gap in gaps.items() if gap}


def leaked(details: Mapping[str, set[str]], body: Mapping[str, Any]) -> set[str]:
    """The details that appear anywhere in a response body."""
    text = json.dumps(body, ensure_ascii=False)
    return {d for found in details.values() for d in found if d in text}
