"""Personas whose sources send odd data a decision or a protection depends on (issue 10, second round).

Each persona carries one kind of quirk on which the gateway must fail closed (docs/sandbox.md, "Odd
data"); Mette Test Larsen (``CBDJ6``) has a treatment relation to each:

- ``mislabelled_places``: a protected patient whose places carry the wrong sector label: a visit at
  a municipal home-nursing unit served by a region's endpoint without ``appointmentType`` (its
  ``Location`` with the unit's SOR code and address), a visit at a general practice labelled
  ``RegionalAppointment``, a visit at a hospital unit the SOR register gives no sector, one at a
  hospital unit that is one, and a hospital plan source's diagnosis whose custodian is a municipal
  unit. Only the hospital unit may be shown to a caller who gets placeholders;
- ``unknown_cpr_status``: CPR status ``99``, a code nobody knows;
- ``bare_protection_label``: name and address protection sent as ``meta.security`` ``{"code": "R"}``
  without its system;
- ``left_out_by_cpr``: a person CPR's search never returns (a ``200`` without them);
- ``shouting_consent``: a block on ``CBDJ6`` whose consent says ``status: "ACTIVE"``;
- ``included_consent``: a block on ``CBDJ6`` sent as a ``search.mode = include`` entry;
- ``zero_padded_block``: a block on Træning og Rehabilitering Odense sent as ``0359021000016001``, and
  a training session there;
- ``conflicting_subject``: a child whose visit names her as ``Patient/<id>`` but carries her
  mother's CPR number as the reference's identifier, a visit naming another server's
  ``Patient/<id>``, and a diagnosis whose subject disagrees the same way.

Every date is fixed relative to the anchor. Added after the generated population, so the generated
data does not move.
"""

from __future__ import annotations

from datetime import date, timedelta

from sandbox.clinical import (
    AALBORG_HOME_NURSING,
    AALBORG_UH,
    HASSERIS_SOR,
    LUNG_CLINIC,
    NEPHROLOGY,
    ODENSE_TRAINING,
    Appointment,
    Condition,
    Organisation,
)
from sandbox.clinical_gen import persona_id
from sandbox.population import Address, Block, Person, Population
from sandbox.quirks import add_persona, at

DOCTOR = "CBDJ6"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SECTORLESS_UNIT = "378731000016009"
"""A hospital unit (Akutmodtagelsen, AAUH) the SOR register serves without a sector."""
_AALBORG = Address("Testnørregade 12", "9000", "Aalborg", "0851")
_ODENSE = Address("Testkongensgade 4", "5000", "Odense C", "0461")


def add_trust_quirks(population: Population) -> None:
    """Add every persona of this module, with its clinical items and blocks."""
    _mislabelled_places(population)
    _odd_cpr(population)
    _odd_consents(population)
    _conflicting_subject(population)


def _person(
    population: Population,
    key: str,
    cpr: str,
    name: tuple[str, str],
    male: bool,
    *,
    address: Address = _AALBORG,
    status: str = "01",
    **odd: object,
) -> Person:
    """:func:`~sandbox.quirks.add_persona` with its odd attributes set (``protected``, ``security_wire``…)."""
    person = population.persons[add_persona(population, key, cpr, name, male, status=status, address=address)]
    for attribute, value in odd.items():
        setattr(person, attribute, value)
    return person


def _visit(
    population: Population,
    cpr: str,
    key: str,
    where: tuple[str, str],
    days: int,
    title: str,
    *,
    sector_label: str | None = None,
    location_sor: str | None = None,
    patient_reference: str = "identifier",
    related_person_cpr: str | None = None,
) -> None:
    """A 45-minute visit at 10:00 ``days`` after the anchor, at ``where`` (endpoint, SOR code)."""
    endpoint, sor = where
    begins = at(population.anchor + timedelta(days=days), 10, 0)
    visit = Appointment(persona_id(cpr, key), cpr, (endpoint,), sor, begins, begins + timedelta(minutes=45))
    visit.title, visit.sector_label, visit.location_sor = title, sector_label, location_sor
    visit.patient_reference, visit.related_person_cpr = patient_reference, related_person_cpr
    population.clinical.appointments.append(visit)


def _mislabelled_places(population: Population) -> None:
    cpr = _person(population, "mislabelled_places", "1405620547", ("Svend Test", "Skjult"), True, protected=True).cpr
    population.clinical.organisations[SECTORLESS_UNIT] = Organisation(
        SECTORLESS_UNIT, "Akutmodtagelsen, AAUH", "region", AALBORG_UH, "Hobrovej 18-22, 9000 Aalborg"
    )
    population.sectorless.add(SECTORLESS_UNIT)
    region = "region-nordjylland"
    _visit(population, cpr, "home-nursing", (region, AALBORG_HOME_NURSING), 4, "Sårpleje", sector_label="")
    _visit(population, cpr, "gp-as-region", (region, HASSERIS_SOR), 5, "Kontrol", sector_label="RegionalAppointment")
    _visit(population, cpr, "sectorless", (region, SECTORLESS_UNIT), 6, "Skade", location_sor=SECTORLESS_UNIT)
    _visit(population, cpr, "hospital", (region, LUNG_CLINIC), 7, "Spirometri", location_sor=LUNG_CLINIC)
    population.clinical.conditions.append(
        Condition(
            persona_id(cpr, "municipal-custodian"),
            cpr,
            "plans-hospital",
            "FSIII",
            "I4.4",
            "Problemer med tryksår",
            AALBORG_HOME_NURSING,
            population.anchor - timedelta(days=10),
        )
    )


def _odd_cpr(population: Population) -> None:
    _person(population, "unknown_cpr_status", "0308580266", ("Vera Test", "Ukendtstatus"), False, status="99")
    _person(
        population,
        "bare_protection_label",
        "2209713353",
        ("Niels Test", "Etiket"),
        True,
        security_wire={"security": [{"code": "R"}]},
    )
    left_out = _person(population, "left_out_by_cpr", "1702842092", ("Lise Test", "Udeladt"), False, left_out=True)
    _visit(population, left_out.cpr, "left-out", ("municipality-aalborg", AALBORG_HOME_NURSING), 3, "Hjemmepleje")


def _odd_consents(population: Population) -> None:
    since = date(2024, 1, 1)
    shouting = _person(population, "shouting_consent", "0511902057", ("Ole Test", "Versal"), True, address=_ODENSE)
    population.blocks.append(
        Block(
            "block-shouting",
            shouting.cpr,
            "professional",
            authorization_id=DOCTOR,
            valid_from=since,
            resource_wire={"status": "ACTIVE"},
        )
    )
    included = _person(population, "included_consent", "2704661774", ("Inge Test", "Medtaget"), False, address=_ODENSE)
    population.blocks.append(
        Block(
            "block-included",
            included.cpr,
            "professional",
            authorization_id=DOCTOR,
            valid_from=since,
            search_mode="include",
        )
    )
    padded = _person(population, "zero_padded_block", "0906793535", ("Nul Test", "Foran"), True, address=_ODENSE)
    actor = {"reference": {"identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": "0" + ODENSE_TRAINING}}}
    population.blocks.append(
        Block(
            "block-padded",
            padded.cpr,
            "organisation",
            organisation_sor=ODENSE_TRAINING,
            valid_from=since,
            wire={"actor": [actor]},
        )
    )
    _visit(population, padded.cpr, "training", ("municipality-odense", ODENSE_TRAINING), 2, "Træning")


def _conflicting_subject(population: Population) -> None:
    mother = population.personas["mother"]
    child = _person(population, "conflicting_subject", "1207194874", ("Mia Test", "Nielsen"), False, address=_ODENSE)
    child.custody_holders = [mother]
    where = ("region-syddanmark", NEPHROLOGY)
    _visit(population, child.cpr, "conflicting", where, 8, "Uenig reference", patient_reference="conflicting",
           related_person_cpr=mother)  # fmt: skip
    _visit(population, child.cpr, "foreign", where, 9, "Fremmed reference", patient_reference="foreign")
    condition = Condition(
        persona_id(child.cpr, "conflicting-subject"),
        child.cpr,
        "plans-hospital",
        "SKS",
        "DJ459",
        "Astma UNS",
        LUNG_CLINIC,
        population.anchor - timedelta(days=20),
    )
    patient = {"resourceType": "Patient", "id": "p", "identifier": [{"system": CPR_SYSTEM, "value": child.cpr}]}
    condition.wire = {
        "subject": {"reference": "#p", "identifier": {"system": CPR_SYSTEM, "value": mother}},
        "contained": [patient],
    }
    population.clinical.conditions.append(condition)
