"""Name and address protection scenarios (issue 10; docs/sandbox.md, "Protected persons").

Everything name and address protection must hide, wherever it sits, so the e2e tests and the demo
show it redacted for professionals and parents and shown to the patient:

- ``protected`` (Ruddi Test Berggren, 1502779995, dk-core's protected-address example): a phone
  number, a temporary address, a dentist and two relatives on his master card; besides his three GP
  consultations (``sandbox/clinical_personas.py``), a home-care visit at home shared as an APD-DK
  document through DDS (participant ``typeCode="SBJ"``), a home-nursing visit at home over FHIR (a
  ``Location`` of type ``PTRES``), a session at a municipal training centre and a lung-clinic visit
  (a hospital: shown); a GP and a hospital diagnosis, a GP goal, a GP forløbsplan and a municipal
  wound-care plan; blocks on doctor Lars Test Holm (``7QWRT``) and on Lægehuset Valdemarsgade, where
  nothing of his is; a digital power of attorney (``fuldmagt-4``, scope ``overview``) to his mother
  Nancy Ann Test Berggren (2512489996), who sees what he sees.
- ``protected_child`` (Alma Test Nielsen, 1409164604, born 2016-09-14): a child with name and
  address protection in Sofie Test Nielsen's (``mother``) custody, living elsewhere; GP visits, a
  home-nursing visit at home over FHIR, a home-care visit at home through DDS, a hospital visit, a
  phone number, a dentist and a foster mother as relative.

Mette Test Larsen (``CBDJ6``) has a treatment relation to both. Added after the generated population,
so the generated data does not move; item IDs are stable (``persona_id``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import partial

from sandbox.clinical import (
    AALBORG_HOME_NURSING,
    AALBORG_TRAINING,
    AALBORG_UH,
    HASSERIS_SOR,
    LUNG_CLINIC,
    ODENSE_HOME_CARE,
    VALDEMARSGADE_SOR,
)
from sandbox.clinical_gen import (
    GP_FOLLOW_UP,
    HOME_HELP,
    REHABILITATION,
    WOUND_CARE,
    Chart,
    ClinicBuilder,
    Code,
    intervention,
    local,
    workday,
)
from sandbox.personas import VALDEMARSGADE
from sandbox.population import Address, Block, MasterCard, Person, Population, PowerOfAttorney, Relative

DOCTOR = "CBDJ6"
NANCY = "2512489996"
"""Nancy Ann Test Berggren (a MedCom test person), his mother, who holds a fuldmagt from him."""
SUMMER_HOUSE = Address("Testklitvej 9", "6960", "Hvide Sande", "0760")
_K86: Code = ("ICPC2", "K86", "Forhøjet blodtryk")
_DJ449: Code = ("SKS", "DJ449", "Kronisk obstruktiv lungesygdom UNS")
_WOUND: Code = ("FSIII", "G1.39", "Sårbehandling")
_PRESSURE_ULCER: Code = ("FSIII", "I4.4", "Problemer med tryksår")


def add_protection_scenarios(population: Population) -> None:
    """Add the protected persona's details and the protected child in ``mother``'s custody."""
    clinic = ClinicBuilder(population.clinical, population.anchor, random.Random(population.seed))
    _ruddi(population, clinic)
    _protected_child(population, clinic)


def _ruddi(population: Population, clinic: ClinicBuilder) -> None:
    cpr = population.personas["protected"]
    population.master_cards[cpr] = MasterCard(
        phone="28394756",
        temporary_address=SUMMER_HOUSE,
        temporary_address_end=date(2031, 8, 31),
        dentist="Tandlægehuset Testvænget",
        preferred_language="da",
        relatives=[
            Relative("Nancy Ann", "Test Berggren", "41526374", "mor"),
            Relative("Rikke", None, "51627384", "datter"),
        ],
    )
    since = date(2024, 1, 1)
    population.powers_of_attorney.append(PowerOfAttorney("fuldmagt-4", cpr, NANCY, ["overview"], valid_from=since))
    population.blocks += [
        Block("block-protected-1", cpr, "professional", authorization_id="7QWRT", valid_from=since),
        Block("block-protected-2", cpr, "organisation", organisation_sor=VALDEMARSGADE_SOR, valid_from=since),
    ]
    chart = clinic.chart(cpr)
    _home_visits(chart, clinic.anchor)
    day = partial(_on, clinic.anchor)
    chart.appointment("training", AALBORG_TRAINING, local(day(20), 13), 60, "Træningshold", REHABILITATION)
    chart.appointment("lung-clinic", LUNG_CLINIC, local(day(30), 9), 30, "Lungefunktionsundersøgelse")
    pressure = chart.condition("hypertension", "plans-gp", _K86, HASSERIS_SOR, day(-400))
    chart.condition("copd", "plans-hospital", _DJ449, LUNG_CLINIC, day(-200), "encounter-diagnosis")
    ulcer = chart.condition("ulcer", "plans-municipality", _PRESSURE_ULCER, AALBORG_HOME_NURSING, day(-20))
    goal = chart.goal("blood-pressure", "plans-gp", "disease", "Blodtryk under 135/85 mmHg", HASSERIS_SOR, day(-400))
    healed = chart.goal("healed", "plans-municipality", "disease", "Tryksåret er helet", AALBORG_HOME_NURSING, day(-20))
    chart.plan(
        "gp-plan",
        "plans-gp",
        "Forløbsplan for forhøjet blodtryk",
        HASSERIS_SOR,
        day(-400),
        "forløbsplan",
        [intervention(GP_FOLLOW_UP, "Blodtrykskontrol hver tredje måned", HASSERIS_SOR, day(-400), [goal])],
        [goal],
        [pressure],
    )
    chart.plan(
        "wound-plan",
        "plans-municipality",
        "Indsatsplan, sårbehandling",
        AALBORG_HOME_NURSING,
        day(-20),
        "kommunal indsatsplan",
        [intervention(_WOUND, "Tryksår på hælen tilses to gange om ugen", AALBORG_HOME_NURSING, day(-20), [healed])],
        [healed],
        [ulcer],
    )


def _protected_child(population: Population, clinic: ClinicBuilder) -> None:
    mother = population.personas["mother"]
    home = Address("Testskjulestien 5", "8000", "Aarhus C", "0751")
    child = population.add(
        Person("1409164604", "Alma Test", "Nielsen", False, home, protected=True, ydernummer=VALDEMARSGADE)
    )
    child.custody_holders = [mother]
    population.personas["protected_child"] = child.cpr
    population.relations.add((DOCTOR, child.cpr))
    population.master_cards[child.cpr] = MasterCard(
        phone="30415263",
        dentist="Kommunal Tandpleje Testby",
        preferred_language="da",
        relatives=[Relative("Karen", "Test Holm", "29384756", "plejemor")],
    )
    chart = clinic.chart(child.cpr)
    day = partial(_on, clinic.anchor)
    chart.appointment("gp-past", VALDEMARSGADE_SOR, local(day(-40), 8, 30), 15, "Børneundersøgelse")
    chart.appointment("gp-next", VALDEMARSGADE_SOR, local(day(10), 8, 30), 15, "Vaccination")
    chart.appointment("hospital", AALBORG_UH, local(day(25), 10), 30, "Ambulant samtale")
    _home_visits(chart, clinic.anchor)


def _home_visits(chart: Chart, anchor: date) -> None:
    """Visits at home: home care through DDS (APD-DK, ``SBJ``) and home nursing over FHIR (``PTRES``)."""
    day = partial(_on, anchor)
    chart.appointment(
        "home-care", ODENSE_HOME_CARE, local(day(5), 8), 45, "Personlig pleje", HOME_HELP, dds=True, at_home=True
    )
    chart.appointment(
        "home-nursing", AALBORG_HOME_NURSING, local(day(12), 10), 30, "Sårbehandling", WOUND_CARE, at_home=True
    )


def _on(anchor: date, offset: int) -> date:
    """The workday ``offset`` days from the anchor."""
    return workday(anchor + timedelta(days=offset))
