"""The sandbox's clinical world: organisations (SOR tree), appointments, plans, goals, diagnoses.

Plain data, shared by the simulated appointment endpoints, the DDS document index, the plan
sources and the SOR registry. ``sandbox/clinical_gen.py`` fills it for the personas and the
generated population. The sandbox may not import product code, so it spells the wire values out
itself.

Every appointment names the endpoints that serve it (``endpoints``): a region's appointment can be
served by the region's own FHIR endpoint *and* shared as an APD-DK document through DDS, with the
same stable ID, which the gateway must de-duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Organisation:
    """A SOR-registered organisation or unit; ``part_of`` is its parent's SOR code."""

    sor: str
    name: str
    kind: str
    """``region`` | ``municipality`` | ``gp``."""
    part_of: str | None = None
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class EndpointSpec:
    """A simulated endpoint: its wire format, sector and (when it is one organisation's) owner."""

    name: str
    format: str
    """``fhir`` (FHIR Appointment / CarePlan search) | ``apd-mhd`` (DDS document index + APD-DK)."""
    kind: str | None
    owner_sor: str | None = None


REGION_SYDDANMARK = "248101000016008"
OUH = "378631000016009"
NEPHROLOGY = "378641000016007"
DIALYSIS = "378671000016008"
UROLOGY = "378661000016002"
REHABILITATION_OUH = "378681000016005"
REGION_NORDJYLLAND = "248201000016004"
AALBORG_UH = "378711000016003"
LUNG_CLINIC = "378651000016004"
ENDOCRINOLOGY_AUH = "378721000016006"
ODENSE_KOMMUNE = "359001000016000"
ODENSE_HOME_CARE = "359011000016007"
ODENSE_TRAINING = "359021000016001"
AALBORG_KOMMUNE = "361001000016009"
AALBORG_TRAINING = "361011000016002"
AALBORG_HOME_NURSING = "361021000016008"
HASSERIS_SOR = "61741000016007"
VALDEMARSGADE_SOR = "393421000016009"

ORGANISATIONS: tuple[Organisation, ...] = (
    Organisation(REGION_SYDDANMARK, "Region Syddanmark", "region", None, "Damhaven 12, 7100 Vejle", "76631000"),
    Organisation(
        OUH, "Odense Universitetshospital", "region", REGION_SYDDANMARK, "J. B. Winsløws Vej 4, 5000 Odense C"
    ),
    Organisation(NEPHROLOGY, "Nefrologisk Afdeling Y, OUH", "region", OUH, "J. B. Winsløws Vej 4, 5000 Odense C"),
    Organisation(DIALYSIS, "Dialyseafsnit Y3, OUH", "region", NEPHROLOGY, "J. B. Winsløws Vej 4, 5000 Odense C"),
    Organisation(UROLOGY, "Urologisk Afdeling L, OUH", "region", OUH, "J. B. Winsløws Vej 4, 5000 Odense C"),
    Organisation(REHABILITATION_OUH, "Rehabiliteringsafdeling, OUH", "region", OUH, "Heden 7, 5000 Odense C"),
    Organisation(REGION_NORDJYLLAND, "Region Nordjylland", "region", None, "Niels Bohrs Vej 30, 9220 Aalborg Ø"),
    Organisation(
        AALBORG_UH, "Aalborg Universitetshospital", "region", REGION_NORDJYLLAND, "Hobrovej 18-22, 9000 Aalborg"
    ),
    Organisation(
        LUNG_CLINIC, "Lungemedicinsk Ambulatorium, AAUH", "region", AALBORG_UH, "Mølleparkvej 4, 9000 Aalborg"
    ),
    Organisation(
        ENDOCRINOLOGY_AUH, "Endokrinologisk Ambulatorium, AAUH", "region", AALBORG_UH, "Hobrovej 18, 9000 Aalborg"
    ),
    Organisation(ODENSE_KOMMUNE, "Odense Kommune", "municipality", None, "Flakhaven 2, 5000 Odense C", "66131372"),
    Organisation(
        ODENSE_HOME_CARE, "Hjemmeplejen Odense Syd", "municipality", ODENSE_KOMMUNE, "Testhjemmevej 3, 5000 Odense C"
    ),
    Organisation(
        ODENSE_TRAINING,
        "Træning og Rehabilitering Odense",
        "municipality",
        ODENSE_KOMMUNE,
        "Testtræningsvej 9, 5000 Odense C",
    ),
    Organisation(AALBORG_KOMMUNE, "Aalborg Kommune", "municipality", None, "Boulevarden 13, 9000 Aalborg", "99311111"),
    Organisation(
        AALBORG_TRAINING,
        "Sundhedscenter Aalborg, KOL-hold",
        "municipality",
        AALBORG_KOMMUNE,
        "Testsundhedsvej 2, 9000 Aalborg",
    ),
    Organisation(
        AALBORG_HOME_NURSING,
        "Hjemmesygeplejen Aalborg",
        "municipality",
        AALBORG_KOMMUNE,
        "Testplejevej 5, 9000 Aalborg",
    ),
)

APPOINTMENT_ENDPOINTS: tuple[EndpointSpec, ...] = (
    EndpointSpec("region-syddanmark", "fhir", "region", REGION_SYDDANMARK),
    EndpointSpec("region-nordjylland", "fhir", "region", REGION_NORDJYLLAND),
    EndpointSpec("municipality-odense", "fhir", "municipality", ODENSE_KOMMUNE),
    EndpointSpec("municipality-aalborg", "fhir", "municipality", AALBORG_KOMMUNE),
    EndpointSpec("gp", "fhir", "gp", None),
    EndpointSpec("dds", "apd-mhd", None, None),
)

PLAN_ENDPOINTS: tuple[EndpointSpec, ...] = (
    EndpointSpec("plans-gp", "fhir", "gp", None),
    EndpointSpec("plans-municipality", "fhir", "municipality", None),
    EndpointSpec("plans-hospital", "fhir", "region", None),
)


@dataclass
class Appointment:
    """One appointment, as every endpoint that serves it knows it.

    ``id`` is the stable appointment ID (a UUID) used by every format and every version.
    ``version`` is the current version; for APD documents, versions ``1..version-1`` exist as
    superseded documents replaced by the next (with ``earlier_starts[i]`` as version ``i+1``'s start).
    ``deprecated`` means the APD document was withdrawn without a replacement (the appointment
    was cancelled); FHIR endpoints show such an appointment with status ``cancelled``.
    """

    id: str
    cpr: str
    endpoints: tuple[str, ...]
    organisation_sor: str
    start: datetime
    end: datetime | None
    status: str = "booked"
    """``booked`` | ``fulfilled`` | ``cancelled`` (FHIR AppointmentStatus)."""
    all_day: bool = False
    time_note: str | None = None
    """Set for an indicative time window: the text of the APD ``GuidedIntervalType`` precondition."""
    location_sor: str | None = None
    room: str | None = None
    at_home: bool = False
    reason_system: str = "http://snomed.info/sct"
    reason_code: str = "17436001"
    reason_display: str = "Lægekonsultation med ambulant patient"
    title: str | None = None
    version: int = 1
    earlier_starts: list[datetime] = field(default_factory=list)
    deprecated: bool = False
    updated: datetime | None = None
    """When it last changed (``meta.lastUpdated``); ``None``: when the population was made
    (:data:`sandbox.changes.POPULATION_UPDATED`). The control route of :mod:`sandbox.changes` sets it."""
    patient_reference: str = "identifier"
    """How the FHIR endpoints name the patient: ``identifier`` (a CPR identifier on the actor),
    ``literal`` (``Patient/<id>``, the Patient served with ``_include=Appointment:patient``),
    ``contained`` (``#patient``, the Patient contained in the appointment), ``conflicting`` (a literal
    reference to the patient whose identifier is ``related_person_cpr``'s CPR number) or ``foreign``
    (another server's absolute URL ending in the included Patient's ``Patient/<id>``)."""
    related_person_cpr: str | None = None
    """A relative taking part (a parent at a child's visit): a ``RelatedPerson`` participant with this
    CPR number on FHIR, an ``IND`` participant in the APD document. Never the appointment's subject."""
    sector_label: str | None = None
    """The MedCom ``appointmentType`` code sent instead of the one the organisation's sector gives
    (``RegionalAppointment`` for a general practice); ``""`` sends none."""


@dataclass
class Condition:
    """A diagnosis. ``system``: ``SKS`` | ``ICPC2`` | ``FSIII`` | ``SNOMED``."""

    id: str
    cpr: str
    endpoint: str
    system: str
    code: str
    display: str
    organisation_sor: str
    recorded: date
    category: str = "problem-list-item"
    clinical_status: str = "active"
    recorded_value: str | None = None
    """The ``recordedDate`` as sent, when it is not ``recorded`` as a date (``2019-06``, a UTC dateTime;
    ``""``: not sent at all); searches still match on ``recorded``."""
    onset: dict[str, Any] | None = None
    """The ``onset[x]`` element as sent (``{"onsetPeriod": {...}}``, ``{"onsetString": "..."}``)."""
    wire: dict[str, Any] | None = None
    """Top-level elements as sent, replacing those made from the fields (a ``subject`` whose reference
    and identifier disagree, with the ``contained`` Patient it points at)."""


@dataclass
class Goal:
    """A goal. ``kind``: ``life`` | ``disease`` | ``functional``; sub-goals have ``part_of``."""

    id: str
    cpr: str
    endpoint: str
    kind: str
    description: str
    organisation_sor: str
    start: date
    status: str = "active"
    expressed_by: str = "patient"
    """``patient`` | ``practitioner`` | ``related-person``."""
    profession: str | None = None
    part_of: str | None = None
    addresses: list[str] = field(default_factory=list)
    due: date | None = None
    achievement: str | None = None


@dataclass
class Intervention:
    """An intervention (indsats). ``code_system``: ``FSIII`` | ``KLE`` | ``SKS``."""

    code_system: str
    code: str
    display: str
    description: str
    performer_sor: str
    start: date
    end: date | None = None
    status: str = "in-progress"
    goal_ids: list[str] = field(default_factory=list)


@dataclass
class CarePlan:
    """A plan: the GP's forløbsplan, a municipal plan or a hospital plan."""

    id: str
    cpr: str
    endpoint: str
    title: str
    organisation_sor: str
    start: date
    end: date | None = None
    status: str = "active"
    description: str | None = None
    category: str | None = None
    """E.g. ``forløbsplan``, ``kommunal indsatsplan``, ``hospitalsplan``."""
    interventions: list[Intervention] = field(default_factory=list)
    goal_ids: list[str] = field(default_factory=list)
    condition_ids: list[str] = field(default_factory=list)


@dataclass
class ClinicalWorld:
    """Everything clinical in one population."""

    organisations: dict[str, Organisation] = field(default_factory=lambda: {o.sor: o for o in ORGANISATIONS})
    appointments: list[Appointment] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    care_plans: list[CarePlan] = field(default_factory=list)

    def organisation(self, sor: str) -> Organisation:
        return self.organisations[sor]

    def subunits(self, sor: str) -> set[str]:
        """``sor`` and every unit below it."""
        found = {sor}
        changed = True
        while changed:
            before = len(found)
            found |= {o.sor for o in self.organisations.values() if o.part_of in found}
            changed = len(found) != before
        return found
