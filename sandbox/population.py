"""One deterministic synthetic population, consistent across every simulated source.

``build_population(seed, patients)`` returns the same people, practices, professionals, master
cards, register flags, blocks and treatment relations for the same arguments. It holds the named
personas (``docs/sandbox.md``), a selection of the published MedCom/HL7 DK test persons, and
``patients`` generated persons (Faker ``da_DK``, a "Test" middle name, CPR numbers that fail
modulus 11), and the clinical world around them (``sandbox/clinical_gen.py``): appointments, plans,
goals and diagnoses dated relative to ``anchor`` (today in Copenhagen unless a test pins it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from sandbox.clinical import ClinicalWorld
from sandbox.cprgen import birth_date_of, make_cpr


@dataclass
class Address:
    line: str
    postal_code: str
    city: str
    municipality_code: str


@dataclass
class Person:
    cpr: str
    given_name: str
    family_name: str
    male: bool
    address: Address
    status: str = "01"
    status_date: date | None = None
    protected: bool = False
    civil_status: str = "U"
    replaced_by: str | None = None
    custody_holders: list[str] = field(default_factory=list)
    guardians: list[str] = field(default_factory=list)
    ydernummer: str | None = None
    insurance_group: int = 1
    birth_date_wire: str | None = None
    """The ``birthDate`` as CPR sends it, when it is not the CPR number's date (a year, a dateTime)."""
    security_wire: Any = None
    """``meta`` as CPR sends it, when it is not the plain one (``{"security": [{"code": "R"}]}``, a string)."""
    left_out: bool = False
    """CPR's search leaves this person out of every answer (a ``200`` without them)."""

    @property
    def birth_date(self) -> date:
        return birth_date_of(self.cpr)


@dataclass
class Doctor:
    name: str
    authorization_id: str


@dataclass
class Practice:
    ydernummer: str
    sor: str
    name: str
    address: Address
    phone: str
    doctors: list[Doctor]


@dataclass
class Relative:
    first_name: str
    surname: str | None = None
    phone: str | None = None
    relation: str | None = None


@dataclass
class MasterCard:
    version: int = 1
    phone: str | None = None
    temporary_address: Address | None = None
    temporary_address_end: date | None = None
    dentist: str | None = None
    preferred_language: str | None = None
    relatives: list[Relative] = field(default_factory=list)


@dataclass
class Registrations:
    treatment_will: bool = False
    living_will: bool = False
    organ_donor: bool = False
    resuscitation_opt_out: bool = False
    # The content, served to citizens only; unset details of a set flag are derived by sandbox/registers.py.
    treatment_will_registered: date | None = None
    treatment_will_situations: tuple[str, ...] = ()
    living_will_registered: date | None = None
    organ_donor_decision: str | None = None
    organ_donor_organs: tuple[str, ...] = ()
    organ_donor_registered: date | None = None
    resuscitation_opt_out_registered: date | None = None


@dataclass
class Block:
    id: str
    cpr: str
    kind: str  # professional | organisation | data_period
    authorization_id: str | None = None
    organisation_sor: str | None = None
    include_subunits: bool = False
    data_start: date | None = None
    data_end: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    wire: dict[str, Any] | None = None
    """``provision`` elements as the consent service sends them, replacing those made from the fields
    (a ``dataPeriod`` of years, a validity end in UTC, an actor in an unknown identifier system)."""
    resource_wire: dict[str, Any] | None = None
    """Top-level ``Consent`` elements as the service sends them (``status: "ACTIVE"``, another
    ``patient``, ``resourceType: "consent"``)."""
    search_mode: str = "match"
    """The entry's ``search.mode`` as the service sends it (``include``, ``outcome``)."""


@dataclass
class Professional:
    name: str
    authorization_id: str
    organisation_sor: str
    profession: str
    """The profession in Danish, as the authorisation register names it (læge, sygeplejerske …)."""
    organisation_name: str
    """The name of the organisation (SOR) the professional works at."""
    assistants: dict[str, str] = field(default_factory=dict)
    """Assistants (medhjælp) who act on this professional's responsibility: user ID → name."""


@dataclass
class PowerOfAttorney:
    """A digital power of attorney (digital fuldmagt): ``holder_cpr`` may act for ``giver_cpr``."""

    id: str
    giver_cpr: str
    holder_cpr: str
    scopes: list[str]
    """``overview``, ``master_card``, ``access_log`` and/or ``blocks``."""
    valid_from: date | None = None
    valid_to: date | None = None


def copenhagen_today() -> date:
    """Today's date in Denmark."""
    return datetime.now(ZoneInfo("Europe/Copenhagen")).date()


@dataclass
class Population:
    seed: int
    persons: dict[str, Person] = field(default_factory=dict)
    practices: dict[str, Practice] = field(default_factory=dict)
    master_cards: dict[str, MasterCard] = field(default_factory=dict)
    registrations: dict[str, Registrations] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    professionals: dict[str, Professional] = field(default_factory=dict)
    relations: set[tuple[str, str]] = field(default_factory=set)
    """(authorisation ID, CPR) pairs with a current treatment relation."""
    powers_of_attorney: list[PowerOfAttorney] = field(default_factory=list)
    """Digital powers of attorney (Digital Fuldmagt), expired ones included."""
    personas: dict[str, str] = field(default_factory=dict)
    """Persona key → CPR number."""
    clinical: ClinicalWorld = field(default_factory=ClinicalWorld)
    """Organisations, appointments, plans, goals and diagnoses (``sandbox/clinical.py``)."""
    sectorless: set[str] = field(default_factory=set)
    """SOR codes the SOR register serves without a sector."""
    anchor: date = field(default_factory=copenhagen_today)
    """The "today" the clinical data is generated around."""

    def add(self, person: Person) -> Person:
        self.persons[person.cpr] = person
        self.master_cards.setdefault(person.cpr, MasterCard())
        self.registrations.setdefault(person.cpr, Registrations())
        return person


def build_population(seed: int = 2016, patients: int = 200, *, anchor: date | None = None) -> Population:
    """The sandbox's synthetic world for ``seed`` with ``patients`` generated persons.

    ``anchor`` is the day the clinical data is dated around (default: today in Copenhagen); the same
    ``seed``, ``patients`` and ``anchor`` give the same world.
    """
    from sandbox.clinical_gen import add_clinical
    from sandbox.personas import add_medcom_test_persons, add_personas
    from sandbox.protected import add_protection_scenarios
    from sandbox.quirks import add_quirks
    from sandbox.quirks_trust import add_trust_quirks

    rng = random.Random(seed)
    fake = Faker("da_DK")
    fake.seed_instance(seed)
    population = Population(seed=seed, anchor=anchor or copenhagen_today())
    _add_practices(population, rng, fake, count=max(4, patients // 1500 + 4))
    add_personas(population)
    add_medcom_test_persons(population)
    _add_generated(population, rng, fake, patients)
    _relate_gps(population)
    add_clinical(population, random.Random(seed + 1), population.anchor)
    add_quirks(population)
    add_trust_quirks(population)
    add_protection_scenarios(population)
    return population


def _address(rng: random.Random, fake: Faker) -> Address:
    postal, city, municipality = rng.choice(_TOWNS)
    street = fake.street_name().replace(" ", "")
    return Address(f"Test{street.lower()} {rng.randint(1, 120)}", postal, city, municipality)


def _phone(rng: random.Random) -> str:
    return f"{rng.randint(20, 99)}{rng.randint(0, 999999):06d}"


def _authorization_id(rng: random.Random) -> str:
    return "".join(rng.choice(_AUTH_CHARS) for _ in range(5))


def _add_practices(population: Population, rng: random.Random, fake: Faker, count: int) -> None:
    for index in range(count):
        ydernummer = f"{100001 + index * 37:06d}"
        doctors = [
            Doctor(f"{fake.first_name()} Test {fake.last_name()}", _authorization_id(rng))
            for _ in range(rng.randint(1, 4))
        ]
        address = _address(rng, fake)
        population.practices[ydernummer] = Practice(
            ydernummer,
            f"{5000 + index}1000016{rng.randint(100, 999)}",
            f"Lægehuset {address.line.split(' ')[0]}",
            address,
            _phone(rng),
            doctors,
        )


def _add_generated(population: Population, rng: random.Random, fake: Faker, count: int) -> None:
    practices = sorted(population.practices)
    for _ in range(count):
        male = rng.random() < 0.5
        birth = date(rng.randint(1930, 2024), rng.randint(1, 12), rng.randint(1, 28))
        if birth.month == 1 and birth.day == 1:
            birth = birth.replace(day=2)
        cpr = make_cpr(birth, male, rng)
        if cpr in population.persons:
            continue
        given = fake.first_name_male() if male else fake.first_name_female()
        person = population.add(
            Person(cpr, f"{given} Test", fake.last_name(), male, _address(rng, fake), civil_status=rng.choice("UGFE"))
        )
        person.ydernummer = rng.choice(practices)
        card = population.master_cards[cpr]
        card.phone = _phone(rng)
        if rng.random() < 0.5:
            card.relatives.append(Relative(fake.first_name(), fake.last_name(), _phone(rng), "pårørende"))
        card.preferred_language = "da" if rng.random() < 0.9 else rng.choice(["en", "de", "ar", "tr"])
        flags = population.registrations[cpr]
        flags.organ_donor = rng.random() < 0.3
        flags.treatment_will = rng.random() < 0.05


def _relate_gps(population: Population) -> None:
    """Every doctor at a practice has a treatment relation to the practice's listed patients."""
    for person in population.persons.values():
        practice = population.practices.get(person.ydernummer or "")
        if practice is None:
            continue
        for doctor in practice.doctors:
            population.relations.add((doctor.authorization_id, person.cpr))


_AUTH_CHARS = "BCDFGHJKLMNPQRSTVWXYZ0123456789"

_TOWNS: list[tuple[str, str, str]] = [
    ("1000", "København K", "0101"),
    ("2000", "Frederiksberg", "0147"),
    ("3400", "Hillerød", "0219"),
    ("4000", "Roskilde", "0265"),
    ("4200", "Slagelse", "0330"),
    ("5000", "Odense C", "0461"),
    ("6700", "Esbjerg", "0561"),
    ("6200", "Aabenraa", "0580"),
    ("8000", "Aarhus C", "0751"),
    ("8800", "Viborg", "0791"),
    ("9000", "Aalborg", "0851"),
    ("9800", "Hjørring", "0860"),
]
