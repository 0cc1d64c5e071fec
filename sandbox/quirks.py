"""Personas whose data is as odd as real upstream data is (issue 10; docs/sandbox.md, "Odd data").

Each persona carries one kind of quirk that public bug reports and documented FHIR, CDA, CPR and
consent behaviour show real sources send, so the e2e tests and the demo can show the gateway
handling it:

- ``dst_night``: three visits the night the clocks go back (2026-10-25), one of them from 02:30+02:00
  to 02:15+01:00 (45 minutes), and one across the spring gap (2026-03-29), served over FHIR and as
  APD-DK documents through DDS;
- ``no_fixed_address``: CPR status 03, ``line: ["Uden fast bopæl"]``, no postal code or city;
- ``birth_year_only`` and ``birth_datetime``: a ``birthDate`` of just a year, and one sent as a UTC
  dateTime;
- ``messy_dates``: a data-period block sent as years (``2019`` to ``2020``) valid until a UTC instant,
  diagnoses with partial, UTC and ``onset[x]`` dates, and a plan that started inside the blocked
  period and still runs;
- ``spaced_block`` and ``unmatchable_block``: a block on ``"CBDJ6 "`` (a trailing space) and one whose
  actor is in an identifier system nobody knows;
- ``visit_with_parent``: a child's appointment whose patient is a literal ``Patient/<id>`` reference
  and whose mother takes part as a ``RelatedPerson`` carrying her own CPR number.

Mette Test Larsen (``CBDJ6``) has a treatment relation to each patient. Every date is fixed, whatever
the anchor. Added after the generated population, so the generated data does not move.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.clinical import NEPHROLOGY, ODENSE_HOME_CARE, OUH, Appointment, CarePlan, Condition, Intervention
from sandbox.clinical_gen import endpoints_for, persona_id
from sandbox.population import Address, Block, Person, Population

CPH = ZoneInfo("Europe/Copenhagen")
DOCTOR = "CBDJ6"
_ODENSE = Address("Testvestergade 30", "5000", "Odense C", "0461")
_NO_FIXED_ADDRESS = Address("Uden fast bopæl", "", "", "0461")
_DST = date(2026, 10, 25)
"""The last Sunday of October 2026: 03:00 summer time becomes 02:00 winter time."""
_SPRING = date(2026, 3, 29)
"""The last Sunday of March 2026: 02:00 winter time becomes 03:00 summer time."""


def at(day: date, hour: int, minute: int, *, summer: bool | None = None) -> datetime:
    """A Danish wall-clock time; ``summer`` picks the first (summer) or second (winter) of an hour that repeats."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=CPH)
    return moment.replace(fold=0 if summer in (None, True) else 1)


def later(moment: datetime, minutes: int) -> datetime:
    """``minutes`` after ``moment`` in elapsed time (adding to a zoned datetime adds wall-clock time)."""
    return (moment.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(CPH)


def add_quirks(population: Population) -> None:
    """Add every odd-data persona, with its clinical items and blocks."""
    _dst_night(population)
    _cpr_quirks(population)
    _messy_dates(population)
    _odd_blocks(population)
    _visit_with_parent(population)


def add_persona(
    population: Population,
    key: str,
    cpr: str,
    name: tuple[str, str],
    male: bool,
    *,
    status: str = "01",
    address: Address = _ODENSE,
) -> str:
    """Add a persona ``key`` with a treatment relation to ``CBDJ6``; its CPR number."""
    person = population.add(Person(cpr, *name, male, address, status=status, ydernummer=None))
    population.personas[key] = person.cpr
    population.relations.add((DOCTOR, person.cpr))
    return person.cpr


def _appointment(
    population: Population, cpr: str, key: str, start: datetime, end: datetime, *, dds: bool = False
) -> Appointment:
    status = "fulfilled" if start.date() < population.anchor else "booked"
    appointment = Appointment(
        persona_id(cpr, key),
        cpr,
        endpoints_for(population.clinical, NEPHROLOGY, dds=dds),
        NEPHROLOGY,
        start,
        end,
        status,
        location_sor=NEPHROLOGY,
        title="Dialyse",
    )
    population.clinical.appointments.append(appointment)
    return appointment


def _dst_night(population: Population) -> None:
    cpr = add_persona(population, "dst_night", "2510611681", ("Nat Test", "Skifte"), True)
    first, second = at(_DST, 2, 30, summer=True), at(_DST, 2, 15, summer=False)
    _appointment(population, cpr, "dst-across", first, second, dds=True)  # 45 minutes
    _appointment(population, cpr, "dst-summer", at(_DST, 2, 45, summer=True), at(_DST, 2, 45, summer=False))
    _appointment(population, cpr, "dst-winter", second, later(second, 15))
    _appointment(population, cpr, "dst-spring", at(_SPRING, 1, 30), at(_SPRING, 3, 30), dds=True)  # one hour


def _cpr_quirks(population: Population) -> None:
    add_persona(
        population, "no_fixed_address", "1307553557", ("Bo Test", "Løs"), True, status="03", address=_NO_FIXED_ADDRESS
    )
    year = add_persona(population, "birth_year_only", "1908481139", ("Åse Test", "Årstal"), True)
    population.persons[year].birth_date_wire = "1948"
    moment = add_persona(population, "birth_datetime", "0503501186", ("Dorte Test", "Tidspunkt"), False)
    population.persons[moment].birth_date_wire = "1950-03-04T23:30:00Z"  # 00:30 on 5 March in Denmark


def _messy_dates(population: Population) -> None:
    cpr = add_persona(population, "messy_dates", "2104772348", ("Rikke Test", "Rod"), False)
    population.blocks.append(
        Block(
            "block-messy",
            cpr,
            "data_period",
            data_start=date(2019, 1, 1),
            data_end=date(2020, 12, 31),
            valid_from=date(2024, 1, 1),
            valid_to=date(2030, 6, 30),
            wire={
                "dataPeriod": {"start": "2019", "end": "2020"},
                "period": {"start": "2024", "end": "2030-06-30T23:00:00Z"},
            },
        )
    )
    world, endpoint = population.clinical, "plans-hospital"

    def condition(key: str, recorded: date, code: str, display: str, wire: str | None = None) -> None:
        item = Condition(persona_id(cpr, key), cpr, endpoint, "SKS", code, display, NEPHROLOGY, recorded)
        item.recorded_value = wire
        world.conditions.append(item)

    condition("partial-month", date(2019, 6, 1), "DN189", "Kronisk nyresygdom UNS", "2019-06")
    condition("utc-new-year", date(2019, 1, 1), "DE11", "Type 2-diabetes", "2018-12-31T23:30:00Z")
    condition("before-block", date(2018, 3, 1), "DJ459", "Astma UNS", "2018")
    condition("after-block", date(2021, 5, 2), "DJ449", "Kronisk obstruktiv lungesygdom UNS")
    world.care_plans.append(
        CarePlan(
            persona_id(cpr, "plan-started-in-block"),
            cpr,
            endpoint,
            "Dialyseplan",
            OUH,
            date(2019, 6, 1),
            None,
            category="hospitalsplan",
            interventions=[
                Intervention(
                    "SKS", "BJFD2", "Hæmodialyse", "Dialyse tre gange om ugen", ODENSE_HOME_CARE, date(2019, 6, 1)
                )
            ],
        )
    )
    world.care_plans.append(
        CarePlan(persona_id(cpr, "plan-after-block"), cpr, endpoint, "Opfølgning", OUH, date(2021, 3, 1), None)
    )
    # Undated for the decision: recorded nowhere, onset only as a period straddling the block, an age, a text.
    for key, onset in (
        ("onset-period", {"onsetPeriod": {"start": "2018-10", "end": "2019-02"}}),
        ("onset-age", {"onsetAge": {"value": 40, "unit": "år", "system": "http://unitsofmeasure.org", "code": "a"}}),
        ("onset-string", {"onsetString": "i barndommen"}),
    ):
        item = Condition(
            persona_id(cpr, key), cpr, endpoint, "SKS", "DQ059", "Rygmarvsbrok UNS", NEPHROLOGY, date(2021, 6, 1)
        )
        item.recorded_value, item.onset = "", onset
        world.conditions.append(item)


def _odd_blocks(population: Population) -> None:
    spaced = add_persona(population, "spaced_block", "0311821507", ("Søren Test", "Mellemrum"), True)
    population.blocks.append(
        Block("block-spaced", spaced, "professional", authorization_id=DOCTOR + " ", valid_from=date(2024, 1, 1))
    )
    unknown = add_persona(population, "unmatchable_block", "1606692660", ("Ulla Test", "Ukendt"), False)
    actor = {"reference": {"identifier": {"system": "urn:oid:1.2.208.176.1.99", "value": "CBDJ6"}}}
    population.blocks.append(
        Block(
            "block-unmatchable",
            unknown,
            "professional",
            authorization_id=DOCTOR,
            valid_from=date(2024, 1, 1),
            wire={"actor": [actor]},
        )
    )


def _visit_with_parent(population: Population) -> None:
    mother = population.personas["mother"]
    child = add_persona(population, "visit_with_parent", "1209184018", ("Ea Test", "Nielsen"), False)
    population.persons[child].custody_holders = [mother]
    start = at(population.anchor + timedelta(days=12), 10, 0)
    visit = _appointment(population, child, "with-mother", start, start + timedelta(minutes=30))
    visit.patient_reference, visit.related_person_cpr = "literal", mother
