"""Source-neutral records for appointments, plans, goals and diagnoses, and their searches.

Appointments come from many endpoints of one kind (regions, municipalities, GP systems, the DDS
document index); plans, goals and diagnoses from several plan sources. Every adapter of these
kinds takes a search (patients, date windows, organisations to leave out) and answers with these
records, so the resolvers merge them without knowing any wire format.

Date windows are half-open ``[start, end)`` in Danish local dates; ``None`` is an open end. The
organisations a search leaves out are SOR codes, already expanded to their sub-units.

Every item says when it is *dated* as the Danish local dates it may fall on (``dated``: a
:class:`~sources.models.PeriodRecord`; a partial date such as ``2019-06`` is the whole month), or
``None`` when it cannot be placed in time. A blocked data period withholds every item that may fall
in it, and every item that cannot be placed (fail closed, ADR 0011).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from sources.datatypes import instant
from sources.errors import SourceError
from sources.identifiers import normalise_sor
from sources.models import PeriodRecord
from sources.payloads import COPENHAGEN, ShapeError

T = TypeVar("T")


class OrganisationKind(StrEnum):
    """The sector an organisation belongs to."""

    REGION = "region"
    MUNICIPALITY = "municipality"
    GP = "gp"


@dataclass(frozen=True, slots=True)
class OrganisationRef:
    """An organisation as an item names it: SOR code, name and (when known) sector."""

    sor: str | None
    name: str
    kind: OrganisationKind | None = None


@dataclass(frozen=True, slots=True)
class CodingRecord:
    """A code from a code system, with its display text (Danish where the source gives it)."""

    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class DateWindow:
    """A half-open window of local dates, ``[start, end)``; ``None`` is an open end."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def overlaps(self, dated: PeriodRecord) -> bool:
        """Whether an item dated ``dated`` may fall in the window (it shares a day with it)."""
        return (self.start is None or dated.end is None or self.start <= dated.end) and (
            self.end is None or dated.start is None or dated.start < self.end
        )

    @property
    def empty(self) -> bool:
        return self.start is not None and self.end is not None and self.start >= self.end


def windows_outside(window: DateWindow, blocked: Iterable[PeriodRecord]) -> tuple[DateWindow, ...]:
    """``window`` with every blocked period cut out (periods are inclusive of both end dates).

    Returns the remaining windows in date order; an empty tuple when nothing is left to search.
    """
    pieces = [window] if not window.empty else []
    for period in blocked:
        cut_start = period.start
        cut_end = _day_after(period.end)
        next_pieces: list[DateWindow] = []
        for piece in pieces:
            before = DateWindow(piece.start, _min(piece.end, cut_start))
            after = DateWindow(_max(piece.start, cut_end), piece.end)
            if cut_start is not None and not before.empty:
                next_pieces.append(before)
            if cut_end is not None and not after.empty:
                next_pieces.append(after)
        pieces = next_pieces
    return tuple(sorted(pieces, key=lambda w: w.start or date.min))


def _day_after(day: date | None) -> date | None:
    """The day after ``day``; ``None`` (open) after the last day of the calendar or an open end."""
    return day + timedelta(days=1) if day is not None and day < date.max else None


def _min(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _max(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass(frozen=True, slots=True)
class ClinicalSearch:
    """One search for some patients' items within one date window.

    ``exclude_organisations`` holds the SOR codes (sub-units included) whose items must not be
    fetched; an adapter passes them to the upstream where its wire format can, and drops matching
    items on the way out in any case.
    """

    cprs: tuple[str, ...]
    window: DateWindow = field(default_factory=DateWindow)
    exclude_organisations: frozenset[str] = frozenset()
    include_cancelled: bool = True
    visible_periods: tuple[DateWindow, ...] = (DateWindow(),)
    """The whole timeline minus blocked data periods: where a search outside ``window`` may look."""
    changed_since: datetime | None = None
    """Only items that changed at or after this instant (FHIR ``_lastUpdated``), for watching changes;
    ``None``: every item. The upstream decides what changed, by its own ``meta.lastUpdated``."""

    def __post_init__(self) -> None:
        """Excluded SOR codes in their normal form, as items carry them (``0378…`` is ``378…``)."""
        normal = frozenset(normalise_sor(sor) or sor for sor in self.exclude_organisations)
        object.__setattr__(self, "exclude_organisations", normal)

    @property
    def periods_blocked(self) -> bool:
        """Some data periods are blocked, so not all of the timeline may be searched."""
        return self.visible_periods != (DateWindow(),)


class AppointmentStatus(StrEnum):
    """FHIR R4 AppointmentStatus, the statuses an appointment can have."""

    PROPOSED = "proposed"
    PENDING = "pending"
    BOOKED = "booked"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"
    CHECKED_IN = "checked-in"
    WAITLIST = "waitlist"


@dataclass(frozen=True, slots=True)
class LocationRecord:
    """Where an appointment takes place: a SOR-coded place, the citizen's home, or a free text."""

    name: str | None = None
    sor: str | None = None
    address: str | None = None
    room: str | None = None
    at_home: bool = False


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    """One appointment (aftale) from one endpoint.

    ``id`` is the stable appointment ID (the same across versions of an APD document; the FHIR
    identifier otherwise), ``version`` orders versions of the same ID (higher is newer). ``start``,
    ``end`` and ``updated`` are instants in UTC (compared as instants; localised only at the edge);
    ``end`` is never before ``start``. An all-day appointment has ``all_day`` set and starts at local
    midnight. ``indicative`` marks a time that is approximate ("tidspunktet er vejledende").
    """

    id: str
    cpr: str
    source: str
    organisation: OrganisationRef
    status: AppointmentStatus
    start: datetime
    end: datetime | None = None
    all_day: bool = False
    indicative: bool = False
    time_note: str | None = None
    location: LocationRecord | None = None
    reason: CodingRecord | None = None
    title: str | None = None
    version: int = 1
    updated: datetime | None = None

    def __post_init__(self) -> None:
        """Every instant has a date in Denmark, so resolvers can localise it (``ShapeError`` otherwise)."""
        for moment in (self.start, self.end, self.updated):
            try:
                if moment is not None:
                    instant(moment)
            except ValueError:
                raise ShapeError("an appointment time lies beyond the calendar") from None

    @property
    def day(self) -> date:
        """The local date it starts on."""
        return self.start.astimezone(COPENHAGEN).date()

    @property
    def dated(self) -> PeriodRecord:
        """An appointment is dated by the local date it starts on."""
        return PeriodRecord(self.day, self.day)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something one endpoint's answer lacks: an item it dropped, or the source's own word that it is partial.

    ``cpr`` is the patient it concerns, ``None`` when it may concern any patient of the search.
    """

    error: SourceError
    cpr: str | None = None


@dataclass(frozen=True)  # no slots: a frozen, slotted generic cannot be made through its alias
class ItemsAnswer(Generic[T]):
    """One endpoint's answer to one search: items per asked CPR (``[]`` when none), and its problems.

    An item the adapter could not accept is left out and named in ``problems`` (never the whole
    answer); so is a page budget that ran out or an error the source put in its answer. The gateway
    reports them as errors for that endpoint (``complete: false``), never silently.
    """

    by_patient: dict[str, list[T]]
    problems: tuple[Problem, ...] = ()

    def problems_for(self, cpr: str) -> list[SourceError]:
        """The errors that concern patient ``cpr``."""
        return [p.error for p in self.problems if p.cpr is None or p.cpr == cpr]


AppointmentsAnswer = ItemsAnswer[AppointmentRecord]


class GoalKind(StrEnum):
    """The three kinds of goal the programme's analysis names."""

    LIFE = "life"
    """Livsmål: what matters to the citizen in life (borgers mål og ønsker)."""
    DISEASE = "disease"
    """Sygdomsspecifikt mål: a goal about a disease (e.g. HbA1c, lung function)."""
    FUNCTIONAL = "functional"
    """Funktionsmål: a goal about everyday function (FSIII tilstandsmål/indsatsmål)."""


@dataclass(frozen=True, slots=True)
class InterventionRecord:
    """One intervention (indsats) of a plan: FSIII/KLE code, description, status, period, performer."""

    description: str
    status: str
    code: CodingRecord | None = None
    period: PeriodRecord = field(default_factory=PeriodRecord)
    performer: OrganisationRef | None = None
    goal_ids: tuple[str, ...] = ()
    started: PeriodRecord | None = None
    """The local dates its start may fall on (``None``: no start given)."""


@dataclass(frozen=True, slots=True)
class CarePlanRecord:
    """A plan (forløbsplan, kommunal plan, hospital plan) with its interventions."""

    id: str
    cpr: str
    source: str
    title: str
    status: str
    organisation: OrganisationRef
    period: PeriodRecord = field(default_factory=PeriodRecord)
    description: str | None = None
    category: CodingRecord | None = None
    interventions: tuple[InterventionRecord, ...] = ()
    goal_ids: tuple[str, ...] = ()
    condition_ids: tuple[str, ...] = ()
    started: PeriodRecord | None = None
    """The local dates its start may fall on (``None``: no start given)."""

    @property
    def dated(self) -> PeriodRecord | None:
        """A plan is dated by its start."""
        return self.started


@dataclass(frozen=True, slots=True)
class GoalRecord:
    """A goal (mål): overall, or a profession-specific sub-goal (delmål) of an overall goal."""

    id: str
    cpr: str
    source: str
    kind: GoalKind
    description: str
    lifecycle_status: str
    organisation: OrganisationRef
    expressed_by: str | None = None
    """Who expressed it: ``patient``, ``practitioner`` or ``related-person``."""
    profession: str | None = None
    """For a profession-specific sub-goal: the profession (e.g. ``fysioterapeut``)."""
    part_of: str | None = None
    """The overall goal this sub-goal serves."""
    addresses: tuple[str, ...] = ()
    """IDs of the conditions (diagnoses) the goal addresses."""
    category: CodingRecord | None = None
    achievement: str | None = None
    start: PeriodRecord | None = None
    """The local dates its start date may denote (one day, or a month or year for a partial date)."""
    due: PeriodRecord | None = None

    @property
    def dated(self) -> PeriodRecord | None:
        """A goal is dated by its start date."""
        return self.start


class DiagnosisCodeSystem(StrEnum):
    """The code systems diagnoses come in."""

    SKS = "SKS"
    ICPC2 = "ICPC2"
    FSIII = "FSIII"
    FFB = "FFB"
    SNOMED = "SNOMED"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    """A diagnosis or problem (Condition) with its code and Danish display text."""

    id: str
    cpr: str
    source: str
    code_system: DiagnosisCodeSystem
    code: str
    display: str
    organisation: OrganisationRef
    clinical_status: str | None = None
    category: str | None = None
    """``encounter-diagnosis`` or ``problem-list-item``."""
    onset: PeriodRecord | None = None
    """The local dates the onset may lie in; ``None`` when not given or not placeable (an age, a text)."""
    recorded: PeriodRecord | None = None
    """The local dates the recorded date may denote."""

    @property
    def dated(self) -> PeriodRecord | None:
        """A diagnosis is dated by when it was recorded, else by its onset."""
        return self.recorded or self.onset


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One configured endpoint of a many-endpoint source (appointments, plans).

    ``organisation_sor`` is set when everything the endpoint serves belongs to that organisation
    (a region's or municipality's own system): a block on it (or on a parent, with sub-units) then
    means the endpoint is not queried at all.
    """

    name: str
    kind: OrganisationKind | None = None
    organisation_sor: str | None = None
    plan_start_search: bool = True
    """A plan endpoint supports our ``period-start`` search on ``CarePlan`` (docs/sources/plans.md)."""
    max_pages: int = 50
    """The page budget of one search: more pages give the items so far and an incomplete answer."""


@dataclass(frozen=True, slots=True)
class BlockRule:
    """One block as it narrows shared data: items of these organisations, dated in this period.

    ``organisations`` ``None`` means any organisation; ``period`` ``None`` means any date. An item
    matches when both parts match. An item matches a period when it may fall in it (a partial date
    overlapping it) and when it cannot be placed at all (undated): what cannot be shown to lie
    outside a blocked period is withheld (fail closed, ADR 0011). Likewise an item whose organisation
    has no SOR code the gateway could read (``sor`` ``None``) matches every organisation block: it may
    be the blocked one. SOR codes on both sides are in their normal form
    (:func:`~sources.identifiers.normalise_sor`).
    """

    organisations: frozenset[str] | None = None
    period: PeriodRecord | None = None
    whole_subtrees: bool = False
    """The block includes sub-units: every organisation listed comes with all the units below it."""

    def matches(self, sor: str | None, dated: PeriodRecord | date | None) -> bool:
        if self.organisations is not None and sor is not None and sor not in self.organisations:
            return False
        if isinstance(dated, date):
            dated = PeriodRecord(dated, dated)
        return self.period is None or dated is None or self.period.overlaps(dated)


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """What a caller may not see of a shared category: the blocks that apply to them."""

    rules: tuple[BlockRule, ...] = ()

    def allows(self, sor: str | None, dated: PeriodRecord | date | None) -> bool:
        """Whether an item of organisation ``sor`` dated ``dated`` (a day, the days it may fall on, or
        ``None``: undated) may be returned."""
        return not any(rule.matches(sor, dated) for rule in self.rules)

    @property
    def excluded_organisations(self) -> frozenset[str]:
        """Organisations blocked at any date: safe to leave out of every upstream search."""
        found: set[str] = set()
        for rule in self.rules:
            if rule.organisations is not None and rule.period is None:
                found |= rule.organisations
        return frozenset(found)

    @property
    def blocked_periods(self) -> tuple[PeriodRecord, ...]:
        """Periods blocked for every organisation: safe to cut out of every searched window."""
        return tuple(r.period for r in self.rules if r.organisations is None and r.period is not None)

    def skips_endpoint(self, endpoint: Endpoint) -> bool:
        """Whether everything ``endpoint`` serves is blocked, so it need not be asked at all."""
        owner = normalise_sor(endpoint.organisation_sor)
        return owner is not None and any(
            r.whole_subtrees and r.period is None and r.organisations is not None and owner in r.organisations
            for r in self.rules
        )

    def windows(self, window: DateWindow) -> tuple[DateWindow, ...]:
        """The parts of ``window`` that may be searched at all."""
        return windows_outside(window, self.blocked_periods)


NO_FILTER = ItemFilter()


class AppointmentSource(Protocol):
    """An appointment endpoint, whatever its wire format."""

    endpoint: Endpoint

    async def appointments_for(self, search: ClinicalSearch) -> AppointmentsAnswer:
        """Appointments of ``search.cprs`` in ``search.window``; raises a SourceError when down."""
        ...
