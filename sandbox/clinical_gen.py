"""Fill the sandbox's clinical world: appointments, diagnoses, goals and plans (docs/sandbox.md).

:func:`add_clinical` registers every GP practice as an organisation, adds the personas' designed
scenarios (``sandbox/clinical_personas.py``) and then a cheap, seeded spread of items for the
generated persons. Everything is dated relative to ``anchor`` (the population's "today") in Danish
local time, so the same seed and anchor give the same world.

Which endpoints serve an appointment follows from its organisation (:func:`endpoints_for`): a unit
of Region Syddanmark is served by ``region-syddanmark`` and may also be shared through ``dds`` under
the same ID; Odense Kommune's units are served by ``municipality-odense`` *or* shared only through
``dds``; Region Nordjylland and Aalborg Kommune only by their own endpoints; practices by ``gp``.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.clinical import (
    AALBORG_HOME_NURSING,
    AALBORG_TRAINING,
    AALBORG_UH,
    APPOINTMENT_ENDPOINTS,
    ENDOCRINOLOGY_AUH,
    LUNG_CLINIC,
    NEPHROLOGY,
    ODENSE_HOME_CARE,
    ODENSE_KOMMUNE,
    ODENSE_TRAINING,
    OUH,
    REGION_SYDDANMARK,
    REHABILITATION_OUH,
    UROLOGY,
    Appointment,
    CarePlan,
    ClinicalWorld,
    Condition,
    Goal,
    Intervention,
    Organisation,
)
from sandbox.population import Population

TZ = ZoneInfo("Europe/Copenhagen")
SNOMED = "http://snomed.info/sct"

Code = tuple[str, str, str]
"""(code system, code, Danish display); diagnoses use ``SKS`` | ``ICPC2`` | ``FSIII`` | ``SNOMED``."""
Reason = Code
"""An appointment's reason: (system URI, code, Danish display)."""

OUTPATIENT: Reason = (SNOMED, "17436001", "Lægekonsultation med ambulant patient")
HAEMODIALYSIS: Reason = (SNOMED, "302497006", "Hæmodialyse")
REHABILITATION: Reason = (SNOMED, "52052004", "Genoptræning")
HOME_HELP: Reason = ("NI", "NI", "Hjemmehjælp")
"""MedCom's APD example: no code (``nullFlavor="NI"``), only the text."""
WOUND_CARE: Reason = ("urn:oid:1.2.208.176.2.21", "G1.39", "Sårbehandling")

MORNING_NOTE = "Morgen aftale \u2013 tidspunktet er vejledende"

_NAMESPACE = uuid.UUID("9b0e4c8e-5f0a-4a53-8d7e-2a1c6b3f7d15")
_ROOT_ENDPOINT = {spec.owner_sor: spec.name for spec in APPOINTMENT_ENDPOINTS if spec.owner_sor is not None}
_DDS_ALSO = frozenset({REGION_SYDDANMARK})
"""Trees whose appointments are shared through DDS *in addition to* their own endpoint."""
_DDS_INSTEAD = frozenset({ODENSE_KOMMUNE})
"""Trees whose appointments are shared through DDS *instead of* their own endpoint."""
_DDS_ROOTS = _DDS_ALSO | _DDS_INSTEAD


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` Danish local time (aware)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def workday(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def persona_id(cpr: str, key: str) -> str:
    """A stable UUID for a persona's item, independent of seed and anchor."""
    return str(uuid.uuid5(_NAMESPACE, f"{cpr}/{key}"))


def root_of(world: ClinicalWorld, sor: str) -> str:
    """The top of ``sor``'s organisation tree (a region, a municipality or a practice)."""
    organisation = world.organisations[sor]
    while organisation.part_of is not None:
        organisation = world.organisations[organisation.part_of]
    return organisation.sor


def endpoints_for(world: ClinicalWorld, sor: str, *, dds: bool = False) -> tuple[str, ...]:
    """The endpoints that serve an appointment at ``sor``; ``dds`` asks for DDS sharing too."""
    if world.organisations[sor].kind == "gp":
        endpoints: tuple[str, ...] = ("gp",)
    else:
        root = root_of(world, sor)
        endpoints = (_ROOT_ENDPOINT[root],)
        if dds and root in _DDS_ALSO:
            return (*endpoints, "dds")
        if dds and root in _DDS_INSTEAD:
            return ("dds",)
    if dds:
        raise ValueError(f"{sor} does not share appointments through DDS")
    return endpoints


@dataclass
class ClinicBuilder:
    """The world being filled, the anchor day and the generator's randomness."""

    world: ClinicalWorld
    anchor: date
    rng: random.Random

    def chart(self, cpr: str) -> Chart:
        return Chart(self, cpr)


@dataclass
class Chart:
    """Adds one patient's items; an item's ID comes from a persona key (stable) or, for ``None``, the rng."""

    clinic: ClinicBuilder
    cpr: str

    def new_id(self, key: str | None) -> str:
        if key is not None:
            return persona_id(self.cpr, key)
        return str(uuid.UUID(int=self.clinic.rng.getrandbits(128), version=4))

    def appointment(
        self,
        key: str | None,
        sor: str,
        start: datetime,
        minutes: int,
        title: str,
        reason: Reason = OUTPATIENT,
        *,
        dds: bool = False,
        end: datetime | None = None,
        status: str | None = None,
        room: str | None = None,
        at_home: bool = False,
        time_note: str | None = None,
        all_day: bool = False,
        earlier_starts: list[datetime] | None = None,
        deprecated: bool = False,
    ) -> Appointment:
        """One appointment; ``fulfilled`` before the anchor day, ``booked`` from it, ``cancelled`` if withdrawn."""
        if status is None:
            status = "cancelled" if deprecated else "fulfilled" if start.date() < self.clinic.anchor else "booked"
        if end is None:
            end = local(start.date() + timedelta(days=1)) if all_day else start + timedelta(minutes=minutes)
        earlier = list(earlier_starts or ())
        appointment = Appointment(
            self.new_id(key),
            self.cpr,
            endpoints_for(self.clinic.world, sor, dds=dds),
            sor,
            start,
            end,
            status,
            all_day,
            time_note,
            None if at_home else sor,
            room,
            at_home,
            *reason,
            title=title,
            version=1 + len(earlier),
            earlier_starts=earlier,
            deprecated=deprecated,
        )
        self.clinic.world.appointments.append(appointment)
        return appointment

    def condition(
        self, key: str | None, endpoint: str, code: Code, sor: str, recorded: date, category: str = "problem-list-item"
    ) -> Condition:
        condition = Condition(self.new_id(key), self.cpr, endpoint, *code, sor, recorded, category)
        self.clinic.world.conditions.append(condition)
        return condition

    def goal(
        self,
        key: str | None,
        endpoint: str,
        kind: str,
        description: str,
        sor: str,
        start: date,
        addresses: list[Condition] | None = None,
        *,
        by: str = "patient",
        due: date | None = None,
        achievement: str | None = "in-progress",
    ) -> Goal:
        """An overall goal of ``kind`` (life | disease | functional), expressed ``by`` patient or practitioner."""
        goal = Goal(self.new_id(key), self.cpr, endpoint, kind, description, sor, start, expressed_by=by, due=due)
        goal.addresses, goal.achievement = [c.id for c in addresses or ()], achievement
        self.clinic.world.goals.append(goal)
        return goal

    def sub_goal(
        self,
        key: str | None,
        endpoint: str,
        description: str,
        sor: str,
        start: date,
        profession: str,
        parent: Goal,
        addresses: list[Condition] | None = None,
    ) -> Goal:
        """A profession's sub-goal (delmål) of ``parent``, of the same kind, set by a practitioner."""
        goal = self.goal(key, endpoint, parent.kind, description, sor, start, addresses, by="practitioner")
        goal.profession, goal.part_of = profession, parent.id
        return goal

    def plan(
        self,
        key: str | None,
        endpoint: str,
        title: str,
        sor: str,
        start: date,
        category: str,
        interventions: list[Intervention],
        goals: list[Goal],
        conditions: list[Condition],
        description: str | None = None,
    ) -> CarePlan:
        plan = CarePlan(self.new_id(key), self.cpr, endpoint, title, sor, start, None, "active", description, category)
        plan.interventions = interventions
        plan.goal_ids, plan.condition_ids = [g.id for g in goals], [c.id for c in conditions]
        self.clinic.world.care_plans.append(plan)
        return plan


def intervention(code: Code, description: str, performer: str, start: date, goals: list[Goal]) -> Intervention:
    """An intervention; ``code`` is (FSIII | KLE | SKS, code, Danish display)."""
    return Intervention(*code, description, performer, start, goal_ids=[g.id for g in goals])


def add_clinical(population: Population, rng: random.Random, anchor: date) -> None:
    """Fill ``population.clinical`` for the personas and the generated persons."""
    from sandbox.clinical_personas import add_persona_clinical

    world = population.clinical
    for practice in population.practices.values():
        a = practice.address
        address = f"{a.line}, {a.postal_code} {a.city}"
        world.organisations[practice.sor] = Organisation(
            practice.sor, practice.name, "gp", None, address, practice.phone
        )
    clinic = ClinicBuilder(world, anchor, rng)
    add_persona_clinical(population, clinic)
    _add_generated(population, clinic)


# --- generated persons --------------------------------------------------------------------------

_GP = "gp"
"""Stands for the person's own practice in the choice lists below."""

_SYDDANMARK = ("0461", "0561", "0580")
_NORDJYLLAND = ("0851", "0860")
_CHOICES: dict[str, tuple[str, ...]] = {
    "syd": (_GP,) * 10
    + (NEPHROLOGY, UROLOGY, OUH, REHABILITATION_OUH) * 2
    + (ODENSE_TRAINING,) * 2
    + (ODENSE_HOME_CARE,) * 2,
    "nord": (_GP,) * 10
    + (AALBORG_UH, LUNG_CLINIC, ENDOCRINOLOGY_AUH) * 2
    + (AALBORG_TRAINING,) * 2
    + (AALBORG_HOME_NURSING,) * 2,
    "other": (_GP,) * 8 + (OUH, NEPHROLOGY),
}
_NO_GP = {area: tuple(c for c in choices if c != _GP) for area, choices in _CHOICES.items()}
_AREA = dict.fromkeys(_SYDDANMARK, "syd") | dict.fromkeys(_NORDJYLLAND, "nord")

_Profile = tuple[tuple[str, ...], Reason, tuple[int, ...]]
_GP_PROFILE: _Profile = (
    ("Konsultation", "Telefonkonsultation", "Blodprøvekontrol", "Årskontrol"),
    OUTPATIENT,
    (15, 15, 30),
)
_PROFILES: dict[str, _Profile] = {
    NEPHROLOGY: (("Ambulant kontrol, nyremedicin",), OUTPATIENT, (30, 45)),
    UROLOGY: (("Ambulant kontrol, urologi", "Cystoskopi"), OUTPATIENT, (30, 45)),
    OUH: (("Forundersøgelse", "Ambulant samtale"), OUTPATIENT, (30, 60)),
    REHABILITATION_OUH: (("Genoptræning, hospital",), REHABILITATION, (45, 60)),
    AALBORG_UH: (("Forundersøgelse", "Ambulant samtale"), OUTPATIENT, (30, 60)),
    LUNG_CLINIC: (("Ambulant kontrol, lungemedicin", "Lungefunktionsundersøgelse"), OUTPATIENT, (30, 45)),
    ENDOCRINOLOGY_AUH: (("Diabeteskontrol",), OUTPATIENT, (30,)),
    ODENSE_TRAINING: (("Genoptræning", "Hverdagsrehabilitering"), REHABILITATION, (45, 60)),
    ODENSE_HOME_CARE: (("Hjemmehjælp - personlig pleje",), HOME_HELP, (30, 45)),
    AALBORG_TRAINING: (("Træningshold", "Genoptræning"), REHABILITATION, (45, 60)),
    AALBORG_HOME_NURSING: (("Hjemmesygepleje, sårbehandling",), WOUND_CARE, (20, 30)),
}
_AT_HOME = frozenset({ODENSE_HOME_CARE, AALBORG_HOME_NURSING})
_APPOINTMENT_COUNTS = (0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 10, 12)
_MINUTES = (0, 15, 30, 45)

_CHRONIC: tuple[tuple[Code, str, str], ...] = (
    (("ICPC2", "T90", "Diabetes type 2"), "HbA1c under 53 mmol/mol", "Gå en tur på 30 minutter hver dag"),
    (("ICPC2", "K86", "Forhøjet blodtryk"), "Blodtryk under 135/85 mmHg", "Cykle til arbejde tre dage om ugen"),
    (("ICPC2", "R95", "Kronisk obstruktiv lungesygdom"), "Højst én KOL-exacerbation om året", "Gå 500 m uden pause"),
    (("ICPC2", "R96", "Astma"), "Ingen natlige astmasymptomer", "Kunne løbe 2 km"),
    (("ICPC2", "K77", "Hjertesvigt"), "Stabil vægt uden væskeophobning", "Gå op ad én etage uden pause"),
    (("ICPC2", "P76", "Depression"), "PHQ-9 under 10 ved næste kontrol", "Komme ud af huset hver dag"),
    (("ICPC2", "L89", "Slidgigt i hofte"), "Smerter under 3 på VAS ved gang", "Gå 1 km med stok"),
)
"""Chronic conditions a generated GP plan is about: (ICPC2 code, disease goal, functional goal)."""
_LIFE_GOALS = (
    "Kunne passe mine børnebørn",
    "Tage på sommerferie med familien",
    "Blive ved med at arbejde på nedsat tid",
    "Kunne gå i haven hver dag",
    "Synge i koret igen",
)
_PROFESSIONS = ("fysioterapeut", "sygeplejerske", "diætist", "ergoterapeut")
GP_FOLLOW_UP: Code = ("SKS", "BVAA", "Rådgivning og vejledning")
"""Illustrative SKS procedure code for a GP's follow-up (docs/sandbox.md)."""


def _add_generated(population: Population, clinic: ClinicBuilder) -> None:
    """0 to 12 appointments for every generated person, and conditions, goals and a GP plan for ~30%."""
    rng, anchor, world = clinic.rng, clinic.anchor, clinic.world
    personas = set(population.personas.values())
    randint, choice, random_ = rng.randint, rng.choice, rng.random
    roots = {sor: root_of(world, sor) for sor in _PROFILES}
    for person in population.persons.values():
        if person.cpr in personas or person.status != "01":
            continue
        chart = clinic.chart(person.cpr)
        practice = population.practices.get(person.ydernummer or "")
        area = _AREA.get(person.address.municipality_code, "other")
        choices = _CHOICES[area] if practice is not None else _NO_GP[area]
        for _ in range(choice(_APPOINTMENT_COUNTS)):
            sor = choice(choices)
            if sor == _GP:
                assert practice is not None
                sor, (titles, reason, durations) = practice.sor, _GP_PROFILE
            else:
                titles, reason, durations = _PROFILES[sor]
            at_home = sor in _AT_HOME
            hour = randint(7, 10) if at_home else randint(8, 15)
            day = anchor + timedelta(days=randint(-180, 180))
            start = local(day if at_home else workday(day), hour, choice(_MINUTES))
            dds = sor == ODENSE_HOME_CARE or (roots.get(sor) in _DDS_ROOTS and random_() < 0.35)
            cancelled = random_() < 0.03
            chart.appointment(
                None,
                sor,
                start,
                choice(durations),
                choice(titles),
                reason,
                dds=dds,
                status="cancelled" if cancelled else None,
                deprecated=cancelled and dds,
                at_home=at_home,
                time_note=MORNING_NOTE if at_home and hour < 10 else None,
            )
        if practice is not None and random_() < 0.3:
            _add_gp_plan(chart, practice.sor)


def _add_gp_plan(chart: Chart, sor: str) -> None:
    """1 to 3 chronic conditions with a disease goal each, some functional, life and sub-goals, one plan."""
    rng = chart.clinic.rng
    chosen = rng.sample(_CHRONIC, rng.randint(1, 3))
    since = chart.clinic.anchor - timedelta(days=rng.randint(60, 3650))
    conditions, goals, interventions = [], [], []
    for code, disease_goal, functional_goal in chosen:
        condition = chart.condition(None, "plans-gp", code, sor, since)
        goal = chart.goal(None, "plans-gp", "disease", disease_goal, sor, since, [condition], by="practitioner")
        conditions.append(condition)
        goals.append(goal)
        if rng.random() < 0.5:
            goals.append(chart.goal(None, "plans-gp", "functional", functional_goal, sor, since, [condition]))
        if rng.random() < 0.3:
            profession = rng.choice(_PROFESSIONS)
            text = f"{profession.capitalize()}: opfølgning på {disease_goal[0].lower()}{disease_goal[1:]}"
            chart.sub_goal(None, "plans-gp", text, sor, since, profession, goal, [condition])
        interventions.append(intervention(GP_FOLLOW_UP, f"Årskontrol: {code[2].lower()}", sor, since, [goal]))
    if rng.random() < 0.4:
        goals.insert(0, chart.goal(None, "plans-gp", "life", rng.choice(_LIFE_GOALS), sor, since, conditions))
    title = "Forløbsplan: " + ", ".join(code[2].lower() for code, _, _ in chosen)
    chart.plan(None, "plans-gp", title, sor, since, "forløbsplan", interventions, goals, conditions)
