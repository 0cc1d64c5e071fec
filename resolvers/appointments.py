"""Appointments (aftaler) from every sector: one merged list, in list, day and week views.

The section asks every appointment endpoint at once through the request's appointment loader
(:mod:`resolvers.gather`), which pushes the caller's access filter down and filters again. The
views below only reshape the merged list: the list view is a connection (:mod:`resolvers.paging`)
paged with an opaque cursor over (start, ID); the day and week views group the range the caller
asked for by Danish local date and ISO week, so a calendar can render them without sorting again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, TypeAlias

import strawberry

from resolvers.bounds import DateRange, Defaults, EveryDay, constraint, described
from resolvers.common import Coding, Organisation, SourceStatus, source_statuses
from resolvers.formats import SOR
from resolvers.gather import Gathered
from resolvers.paging import DEFAULT_PAGE, Connection, Cursor, First, Key, page
from resolvers.protection import ProtectedDetail, Redactable, protected_field, protects
from resolvers.sectors import NO_SECTORS, Sectors, may_show, region_unit
from resolvers.vocabulary import graphql_enum
from sources.clinical import AppointmentRecord, AppointmentStatus, DateWindow, LocationRecord, OrganisationKind
from sources.payloads import COPENHAGEN

CURSOR_TAG = "appointments"
MAX_SPAN_DAYS = 3653
MAX_EMPTY_DAYS = 366
DEFAULT_DAYS = 90

CURSOR = Cursor(CURSOR_TAG, (int, str))
"""``Appointments.list(after:)``: a cursor of this list (start in microseconds, then ID: :func:`_position`)."""
RANGE = DateRange(
    start="from", end="to", max_days=MAX_SPAN_DAYS, defaults=Defaults.FROM_TODAY, default_days=DEFAULT_DAYS
)
"""``Patient.appointments(from:, to:)``: today and 90 days on by default, at most ten years."""
EVERY_DAY = EveryDay(argument="includeEmptyDays", max_days=MAX_EMPTY_DAYS)
"""``Appointments.days(includeEmptyDays:)`` and ``weeks(…)``: empty days for a range of at most a year."""
SOR_IDS = constraint(format=SOR)
"""``AppointmentFilter.sorIds``: SOR-IDs."""

EmptyDays: TypeAlias = Annotated[
    bool, strawberry.argument(description=f"List days without appointments too, {EVERY_DAY.text()}.")
]
"""The day and week views' one argument, named alike (ADR 0025)."""


graphql_enum(
    AppointmentStatus,
    name="AppointmentStatus",
    description="The status of an appointment (FHIR R4 AppointmentStatus).",
    values={
        AppointmentStatus.PROPOSED: "Proposed, not yet booked.",
        AppointmentStatus.PENDING: "Awaiting confirmation.",
        AppointmentStatus.BOOKED: "Booked (aftalt).",
        AppointmentStatus.ARRIVED: "The patient has arrived.",
        AppointmentStatus.FULFILLED: "Took place (afholdt).",
        AppointmentStatus.CANCELLED: "Cancelled or withdrawn (aflyst).",
        AppointmentStatus.NOSHOW: "The patient did not come (udeblevet).",
        AppointmentStatus.ENTERED_IN_ERROR: "Entered in error.",
        AppointmentStatus.CHECKED_IN: "Checked in.",
        AppointmentStatus.WAITLIST: "On a waiting list (venteliste).",
    },
)


@strawberry.type(
    description=(
        "Where an appointment takes place (mødested). For a patient with name and address protection, a caller "
        "who gets placeholders sees only `atHome` of a visit at home, at a general practice or a municipality's "
        "unit, at a place without SOR code, or at one the SOR register does not give as a region's unit: the "
        "rest would tell where the patient lives."
    ),
    directives=[protects(ProtectedDetail.PLACE, kept=("atHome",))],
)
class AppointmentLocation(Redactable):
    name: str | None = strawberry.field(description="The place's name.")
    sor_id: str | None = strawberry.field(description="The place's SOR-ID.")
    address: str | None = strawberry.field(description="The address (adresse).")
    room: str | None = strawberry.field(description="Room, floor or entrance (lokale), e.g. 'opgang 4, 3. sal'.")
    at_home: bool = strawberry.field(description="The appointment is in the citizen's home (i eget hjem).")
    organisation: strawberry.Private[Organisation | None] = None
    """The organisation performing the appointment: a place of an organisation that tells, tells too
    (``None``: not known, so the place tells)."""

    def places(self) -> frozenset[str]:
        """Its own SOR code and its organisation's, unless its home or a label already hides it."""
        organisation = self.organisation
        if self.at_home or self.sor_id is None or organisation is None or not may_show(organisation.kind):
            return frozenset()
        return organisation.places() | {self.sor_id}

    def reveals(self, sectors: Sectors = NO_SECTORS) -> bool:
        """The place tells where the patient lives: their home, a place without SOR code, a place the SOR
        register does not give as a region's unit, or one of an organisation that tells."""
        organisation = self.organisation
        return (
            self.at_home
            or organisation is None
            or organisation.reveals(sectors)
            or not region_unit(self.sor_id, organisation.kind, sectors)
        )

    @classmethod
    def from_record(cls, record: LocationRecord, organisation: Organisation) -> AppointmentLocation:
        return cls(
            name=record.name,
            sor_id=record.sor,
            address=record.address,
            room=record.room,
            at_home=record.at_home,
            organisation=organisation,
        )


@strawberry.type(description="One appointment (aftale) with a hospital, a municipality or a general practice.")
class Appointment:
    cpr: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="The stable appointment ID, the same across versions.")
    status: AppointmentStatus = strawberry.field(description="The status (status).")
    start: datetime = strawberry.field(
        description="Start time, Europe/Copenhagen with its offset (starttidspunkt); lists sort by the instant."
    )
    end: datetime | None = strawberry.field(
        description="End time, Europe/Copenhagen with its offset (sluttidspunkt); never before `start` as an instant."
    )
    all_day: bool = strawberry.field(description="An all-day appointment (heldagsaftale): start is local midnight.")
    indicative_time: bool = strawberry.field(
        description="The time is approximate (tidspunktet er vejledende), e.g. a home-care visit window."
    )
    time_note: str | None = strawberry.field(description="The source's note about the time, when indicative.")
    organisation: Organisation = protected_field(
        ProtectedDetail.PLACE, description="The organisation performing it (udførende enhed)."
    )
    location: AppointmentLocation | None = protected_field(
        ProtectedDetail.PLACE, description="Where it takes place (mødested)."
    )
    reason: Coding | None = strawberry.field(description="Why (årsag), e.g. SNOMED CT 17436001.")
    title: str | None = strawberry.field(description="A short title or subject (emne).")
    source: str = strawberry.field(description="The endpoint it came from.")

    @classmethod
    def from_record(cls, r: AppointmentRecord) -> Appointment:
        organisation = Organisation.from_record(r.organisation)
        return cls(
            cpr=r.cpr,
            id=strawberry.ID(r.id),
            status=r.status,
            start=r.start.astimezone(COPENHAGEN),
            end=r.end.astimezone(COPENHAGEN) if r.end is not None else None,
            all_day=r.all_day,
            indicative_time=r.indicative,
            time_note=r.time_note,
            organisation=organisation,
            location=AppointmentLocation.from_record(r.location, organisation) if r.location is not None else None,
            reason=Coding.from_record(r.reason),
            title=r.title,
            source=r.source,
        )


@strawberry.input(description="Filters for appointments; all given filters must match.")
class AppointmentFilter:
    organisation_kinds: list[OrganisationKind] | None = strawberry.field(
        default=None, description="Only these sectors; endpoints of other sectors are not asked."
    )
    sor_ids: list[str] | None = strawberry.field(
        default=None,
        description=described("Only these organisations, by the SOR-ID of the performer or the place", SOR_IDS),
        directives=[SOR_IDS],
    )
    statuses: list[AppointmentStatus] | None = strawberry.field(default=None, description="Only these statuses.")
    include_cancelled: bool = strawberry.field(
        default=False, description="Include cancelled and withdrawn appointments (left out by default)."
    )

    def status_set(self) -> frozenset[AppointmentStatus]:
        return frozenset(self.statuses or ())

    def sor_set(self) -> frozenset[str]:
        """The SOR-IDs asked for, in their normal form (checked before execution: :data:`SOR_IDS`)."""
        return frozenset(SOR.normal(sor) for sor in self.sor_ids or ())

    def kind_set(self) -> frozenset[OrganisationKind] | None:
        """The sectors asked for; ``None`` for all."""
        return frozenset(self.organisation_kinds or ()) or None

    def wants_cancelled(self) -> bool:
        return self.include_cancelled or AppointmentStatus.CANCELLED in self.status_set()


@strawberry.type(description="One day of the day and week views (dag).")
class AppointmentDay:
    day: date = strawberry.field(name="date", description="The local date.")
    appointments: list[Appointment] = strawberry.field(
        description="Appointments on this day by start time; a multi-day appointment is on every day it covers."
    )


@strawberry.type(description="One ISO week of the week view (uge).")
class AppointmentWeek:
    year: int = strawberry.field(description="The ISO week-numbering year.")
    week: int = strawberry.field(description="The ISO week number (ugenummer).")
    start: date = strawberry.field(description="Monday of the week.")
    end: date = strawberry.field(description="Sunday of the week.")
    days: list[AppointmentDay] = strawberry.field(description="The week's days, Monday first.")


@strawberry.type(description="The patient's appointments in a date range, merged from every source.")
class Appointments:
    start: date = strawberry.field(name="from", description="First date of the range.")
    end: date = strawberry.field(name="to", description="Last date of the range (inclusive).")
    withheld: bool = strawberry.field(
        description="The patient's blocks (Min Spærring) hold something back from you; never what or how much."
    )
    complete: bool = strawberry.field(description="Every source answered; false means items may be missing.")
    sources: list[SourceStatus] = strawberry.field(description="Each source asked and how it answered.")
    records: strawberry.Private[list[AppointmentRecord]]

    @strawberry.field(name="list", description="The list view (liste): the appointments by start time, paged.")
    def list_view(
        self,
        first: First = DEFAULT_PAGE,
        after: Annotated[str | None, CURSOR.argument] = None,
    ) -> Connection[Appointment]:
        found = page(self.records, first, after, cursor=CURSOR, key=_position)
        return Connection(
            nodes=[Appointment.from_record(r) for r in found.items], page_info=found.info, total=found.total
        )

    @strawberry.field(
        description="The day view (dagsvisning): days with appointments, or every day of the range.",
        directives=[EVERY_DAY],
    )
    def days(
        self,
        include_empty_days: EmptyDays = False,
    ) -> list[AppointmentDay]:
        return _days(self.records, self.start, self.end, include_empty_days)

    @strawberry.field(
        description="The week view (ugevisning): ISO weeks (Monday first) covering the range.",
        directives=[EVERY_DAY],
    )
    def weeks(
        self,
        include_empty_days: EmptyDays = False,
    ) -> list[AppointmentWeek]:
        weeks: dict[tuple[int, int], list[AppointmentDay]] = {}
        for day in _days(self.records, self.start, self.end, include_empty_days):
            iso = day.day.isocalendar()
            weeks.setdefault((iso.year, iso.week), []).append(day)
        if include_empty_days:
            first = self.start - timedelta(days=self.start.weekday())
            for monday in (first + timedelta(weeks=n) for n in range((self.end - first).days // 7 + 1)):
                iso = monday.isocalendar()
                weeks.setdefault((iso.year, iso.week), [])
        return [
            AppointmentWeek(
                year=year,
                week=week,
                start=date.fromisocalendar(year, week, 1),
                end=date.fromisocalendar(year, week, 7),
                days=days,
            )
            for (year, week), days in sorted(weeks.items())
        ]


def window_of(start: date | None, end: date | None, today: date) -> tuple[date, date, DateWindow]:
    """The range asked for (defaults: today and 90 days on; checked before execution: :data:`RANGE`);
    ``end`` is inclusive."""
    first, last = RANGE.window(start, end, today)
    assert first is not None and last is not None  # FROM_TODAY fills both
    return first, last, DateWindow(first, last + timedelta(days=1))


def apply_filter(records: list[AppointmentRecord], wanted: AppointmentFilter | None) -> list[AppointmentRecord]:
    """The caller's own filters, on top of what access allows."""
    wanted = wanted or AppointmentFilter()
    statuses = wanted.status_set()
    include_cancelled = wanted.wants_cancelled()
    kinds = wanted.kind_set()
    organisations = wanted.sor_set()
    return [
        r
        for r in records
        if (include_cancelled or r.status is not AppointmentStatus.CANCELLED)
        and (not statuses or r.status in statuses)
        and (not kinds or r.organisation.kind in kinds)
        and (
            not organisations or r.organisation.sor in organisations or (r.location and r.location.sor in organisations)
        )
    ]


def build(records: Gathered[AppointmentRecord], first: date, last: date, withheld: bool) -> Appointments:
    return Appointments(
        start=first,
        end=last,
        withheld=withheld,
        complete=records.complete,
        sources=source_statuses(records.asked, records.errors),
        records=records.items,
    )


def _position(record: AppointmentRecord) -> Key:
    """Where an appointment is in the list view: its start instant (microseconds since 1970), then its ID."""
    return ((record.start - _EPOCH) // timedelta(microseconds=1), record.id)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _days(records: list[AppointmentRecord], first: date, last: date, include_empty: bool) -> list[AppointmentDay]:
    by_day: dict[date, list[AppointmentRecord]] = {}
    if include_empty:
        by_day = {first + timedelta(days=n): [] for n in range((last - first).days + 1)}
    for record in records:
        for day in _covered(record):
            if first <= day <= last:
                by_day.setdefault(day, []).append(record)
    return [
        AppointmentDay(day=day, appointments=[Appointment.from_record(r) for r in found])
        for day, found in sorted(by_day.items())
    ]


def _covered(record: AppointmentRecord) -> list[date]:
    """The local dates an appointment covers; times are localised here, compared as instants (ADR 0011)."""
    start = record.start.astimezone(COPENHAGEN)
    end = record.end.astimezone(COPENHAGEN) if record.end is not None else start
    last = end.date()
    if record.end is not None and record.end > record.start and end.time() == datetime.min.time():
        last -= timedelta(days=1)  # ends at midnight: the next day is not covered
    span = max(0, min((last - start.date()).days, MAX_SPAN_DAYS))
    return [start.date() + timedelta(days=n) for n in range(span + 1)]
