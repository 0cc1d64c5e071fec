"""The FHIR R4 datatypes every adapter reads, with the time-zone and precision rules in one place (ADR 0011).

Time:

- An **instant** (``Appointment.start``, ``meta.lastUpdated``: a time with an offset) is an aware
  ``datetime`` in UTC. Instants are compared as instants, never by wall clock (Python compares two
  datetimes of the same ``ZoneInfo`` by wall clock and ignores ``fold``, so 02:15+01:00 would sort
  before 02:30+02:00 on the night the clocks go back); they are localised to Europe/Copenhagen only
  at the edge.
- A **date** or **dateTime** of any precision (``2019``, ``2019-06``, ``2019-06-14``,
  ``2019-06-14T23:30:00Z``) is a :class:`FhirDateTime`: its precision, its instant when it has a
  time, and the Danish local dates it may denote (:attr:`FhirDateTime.days`, both ends inclusive).
  ``2019`` is 2019-01-01..2019-12-31, ``2019-06`` is 2019-06-01..2019-06-30, and an instant is its
  date in Denmark: ``2018-12-31T23:30:00Z`` is 1 January 2019. A time without an offset (FHIR requires
  one) is read as Danish local time; a dateTime where a date is expected is read the same way.
- A **Period** is the widest reading of its ends: from the first day its start may denote to the
  last day its end may denote (``2019`` to ``2020`` is 2019-01-01..2020-12-31).

Elements (pydantic models on :class:`~sources.payloads.FhirModel`): :class:`Identifier` (value and
system without surrounding whitespace), :class:`Coding`, :class:`CodeableConcept`,
:class:`Reference` (its target type, literal id or contained id), :class:`Period`,
:class:`Extension`, :class:`Meta`, and :class:`OnsetChoice` for ``onset[x]``. Every parser raises
``ValueError`` without echoing the value, so a validation error never carries personal data.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, StrictBool, StringConstraints, ValidationError, model_validator

from sources.identifiers import IdentifierKind, normalise, system_kind
from sources.models import PeriodRecord
from sources.payloads import COPENHAGEN, FhirModel, ShapeError

__all__ = [
    "CodeableConcept",
    "Coding",
    "DateTime",
    "Extension",
    "FhirDateTime",
    "Identifier",
    "Instant",
    "Meta",
    "OnsetChoice",
    "Period",
    "Precision",
    "Reference",
    "Text",
    "instant",
    "local_date",
    "local_midnight",
    "parse_date_time",
    "parse_instant",
    "patient_cpr",
    "resolve",
]

_DATE_TIME = re.compile(
    r"(?P<year>[0-9]{4})"
    r"(?:-(?P<month>[0-9]{2})"
    r"(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?P<fraction>\.[0-9]{1,9})?)?"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)
_MAX_OFFSET = timedelta(hours=14)


class Precision(IntEnum):
    """How much of a date or dateTime was given."""

    YEAR = 1
    MONTH = 2
    DAY = 3
    TIME = 4


@dataclass(frozen=True, slots=True)
class FhirDateTime:
    """A FHIR ``date`` or ``dateTime`` of any precision.

    ``days`` are the Danish local dates it may denote (both ends set, inclusive); ``instant`` is the
    moment in UTC when a time was given.
    """

    precision: Precision
    days: PeriodRecord
    instant: datetime | None = None

    @property
    def day(self) -> date | None:
        """The one local date it denotes, or ``None`` when it is coarser than a day."""
        return self.days.start if self.precision >= Precision.DAY else None


def local_date(moment: datetime) -> date:
    """The date of an aware ``moment`` in Denmark; ``ValueError`` when it lies beyond the calendar."""
    try:
        return moment.astimezone(COPENHAGEN).date()
    except OverflowError:
        raise ValueError("time is out of range") from None


def instant(moment: datetime) -> datetime:
    """An aware ``moment`` as an instant in UTC, checked to have a date in Denmark.

    Every instant an adapter keeps goes through here (or :func:`parse_instant`), so resolvers can
    localise it: an instant within hours of the calendar's ends (``9999-12-31T23:30:00Z`` is year
    10000 in Denmark, ``0001-01-01T00:30:00+02:00`` is year 0 in UTC) raises ``ValueError``, and
    the item carrying it is left out as invalid, never the source.
    """
    return _instant_on(moment)[0]


def _instant_on(moment: datetime) -> tuple[datetime, date]:
    """:func:`instant` of ``moment``, and its date in Denmark (which the check found anyway)."""
    try:
        found = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is out of range") from None
    return found, local_date(found)


def local_midnight(day: date) -> datetime:
    """The instant (UTC) Danish local midnight begins ``day``; ``ValueError`` when that lies beyond the calendar."""
    return instant(datetime.combine(day, time(), COPENHAGEN))


def parse_date_time(value: object) -> FhirDateTime:
    """A FHIR ``date``/``dateTime`` string of any precision → :class:`FhirDateTime` (``ValueError`` otherwise).

    Numbers and other types are refused (pydantic would read a number as a timestamp).
    """
    return _parse(value)[0]


def _parse(value: object) -> tuple[FhirDateTime, bool]:
    """:func:`parse_date_time` of ``value``, and whether it gave a time-zone offset."""
    if not isinstance(value, str):
        raise ValueError("expected a FHIR date or dateTime")
    match = _DATE_TIME.fullmatch(value.strip())
    if match is None:
        raise ValueError("expected a FHIR date or dateTime")
    parts = match.groupdict()
    year = int(parts["year"])
    try:
        if parts["month"] is None:
            return FhirDateTime(Precision.YEAR, PeriodRecord(date(year, 1, 1), date(year, 12, 31))), False
        month = int(parts["month"])
        if parts["day"] is None:
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            return FhirDateTime(Precision.MONTH, PeriodRecord(date(year, month, 1), date(year, month, last))), False
        day = date(year, month, int(parts["day"]))
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError("not a calendar date") from None
    if parts["hour"] is None:
        return FhirDateTime(Precision.DAY, PeriodRecord(day, day)), False
    moment, local = _moment(day, parts)
    return FhirDateTime(Precision.TIME, PeriodRecord(local, local), moment), parts["offset"] is not None


def _moment(day: date, parts: dict[str, str | None]) -> tuple[datetime, date]:
    """The instant the parts give on ``day`` (in UTC), and its date in Denmark."""
    try:
        clock = time(
            int(parts["hour"] or 0),
            int(parts["minute"] or 0),
            int(parts["second"] or 0),
            int((parts["fraction"] or ".0")[1:7].ljust(6, "0")),
        )
    except ValueError:
        raise ValueError("not a time of day") from None
    offset = parts["offset"]
    return _instant_on(datetime.combine(day, clock, COPENHAGEN if offset is None else _zone(offset)))


@functools.lru_cache(maxsize=256)
def _zone(offset: str) -> timezone:
    """The fixed zone of an offset as the pattern reads it (``Z``, ``+01:00``); one object per spelling."""
    if offset == "Z":
        return UTC
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    delta = timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or delta > _MAX_OFFSET:
        raise ValueError("not a time-zone offset")
    return timezone(-delta if offset[0] == "-" else delta)


def parse_instant(value: object) -> datetime:
    """A FHIR ``instant`` (a time with an offset; seconds may be left out) → an aware UTC ``datetime``."""
    parsed, offset = _parse(value)
    if parsed.instant is None or not offset:
        raise ValueError("expected a FHIR instant with an offset")
    return parsed.instant


DateTime = Annotated[FhirDateTime, PlainValidator(parse_date_time)]
"""A FHIR ``date`` or ``dateTime`` field of any precision."""
Instant = Annotated[datetime, PlainValidator(parse_instant)]
"""A FHIR ``instant`` field, as an aware UTC ``datetime``."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A string that must say something: surrounding whitespace removed, empty refused."""


class Identifier(FhirModel):
    """``Identifier``: a value in a system; both without surrounding whitespace."""

    system: Annotated[str, StringConstraints(strip_whitespace=True)] | None = None
    value: Text

    @property
    def kind(self) -> IdentifierKind | None:
        """The Danish identifier kind its system names, if any (:func:`~sources.identifiers.system_kind`)."""
        return system_kind(self.system)

    def normalised(self, kind: IdentifierKind) -> str | None:
        """The value in ``kind``'s normal form when the system is ``kind``'s and the value fits; else ``None``."""
        return normalise(kind, self.value) if self.kind is kind else None


def identifier_of(identifiers: list[Identifier], kind: IdentifierKind) -> str | None:
    """The one normalised ``kind`` value among ``identifiers``; ``None`` when there is none or they disagree."""
    values = {i.normalised(kind) for i in identifiers if i.kind is kind}
    return values.pop() if len(values) == 1 else None


class Coding(FhirModel):
    """``Coding``: a code in a system, with its display."""

    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(FhirModel):
    """``CodeableConcept``: codings and a text."""

    coding: list[Coding] = Field(default_factory=list)
    text: str | None = None


_LITERAL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


class Reference(FhirModel):
    """``Reference``: a literal (``Patient/abc``, absolute or relative), contained (``#p1``) or logical one."""

    reference: str | None = None
    type: str | None = None
    identifier: Identifier | None = None
    display: str | None = None

    @property
    def contained_id(self) -> str | None:
        """The id of the contained resource it points at (``#p1`` → ``p1``), else ``None``."""
        ref = (self.reference or "").strip()
        return ref[1:] if ref.startswith("#") and len(ref) > 1 else None

    @property
    def literal(self) -> tuple[str, str] | None:
        """``(type, id)`` of a literal reference (``[base/]Type/id[/_history/v]``), else ``None``."""
        match = _LITERAL.search((self.reference or "").strip())
        return (match.group(1), match.group(2)) if match else None

    @property
    def target_type(self) -> str | None:
        """The resource type it points at: ``type``, else the literal reference's type."""
        literal = self.literal
        return self.type or (literal[0] if literal else None)


class _PatientIdentity(FhirModel):
    resource_type: Literal["Patient"]
    identifier: list[Identifier] = Field(default_factory=list)


def resolve(
    reference: Reference,
    contained: Sequence[Mapping[str, Any]],
    included: Mapping[str, Mapping[str, Any]],
    base: str = "",
) -> tuple[str | None, Mapping[str, Any] | None]:
    """What ``reference`` points at: the resource type, and the resource when it is at hand.

    A contained reference (``#p1``) is looked up among ``contained``; a relative literal one
    (``Patient/abc``, ``Patient/abc/_history/2``) among ``included`` (the search's ``_include`` entries
    by ``Type/id``); an absolute one (``https://host/fhir/Patient/abc``) by the full URL of an included
    entry, or by ``Type/id`` when it lies under ``base`` (the searched server's FHIR base URL). A
    resource of another server is never taken for this bundle's ``Patient/abc`` by type and id alone.
    A declared ``type`` that disagrees with the resource found raises :class:`ShapeError`.
    """
    target: Mapping[str, Any] | None = None
    text = (reference.reference or "").strip()
    if reference.contained_id is not None:
        target = next((c for c in contained if c.get("id") == reference.contained_id), None)
    elif (literal := reference.literal) is not None:
        where = _HISTORY.sub("", text).removesuffix("/".join(literal)).rstrip("/")
        if not _ABSOLUTE.match(text) or (base and where == base.rstrip("/")):
            target = included.get("/".join(literal))
        else:
            target = included.get(text) or included.get(_HISTORY.sub("", text))
    declared, actual = reference.target_type, (target or {}).get("resourceType")
    if declared is not None and actual is not None and declared != actual:
        raise ShapeError("a reference's type disagrees with the resource it points at")
    kind = declared or actual
    return (kind if isinstance(kind, str) else None), target


_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HISTORY = re.compile(r"/_history/[^/]+$")


def patient_cpr(reference: Reference, target: Mapping[str, Any] | None) -> str | None:
    """The CPR number of a reference to a ``Patient``: its CPR identifier and the target's one CPR identifier.

    ``None`` (the caller reports the item, never files it) when neither gives exactly one well-formed
    CPR number, or when both are given and disagree (``Patient/ea7`` pointing at one person while the
    reference's identifier names another): an item is never filed under a patient it may not be about.
    """
    said: str | None = None
    if reference.identifier is not None and reference.identifier.kind is IdentifierKind.CPR:
        said = reference.identifier.normalised(IdentifierKind.CPR)
        if said is None:
            return None
    if target is None:
        return said
    try:
        found = identifier_of(_PatientIdentity.model_validate(target).identifier, IdentifierKind.CPR)
    except ValidationError:
        return None
    if said is not None and found != said:
        return None
    return found


class Period(FhirModel):
    """``Period``: a start and an end of any precision; the end must not be before the start."""

    start: DateTime | None = None
    end: DateTime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start is not None and self.end is not None:
            if self.start.instant is not None and self.end.instant is not None:
                reversed_ = self.end.instant < self.start.instant
            else:
                reversed_ = self.end.days.end is not None and self.end.days.end < (self.start.days.start or date.min)
            if reversed_:
                raise ValueError("period ends before it starts")
        return self

    @property
    def days(self) -> PeriodRecord:
        """The widest reading: from the first day the start may denote to the last day the end may denote."""
        return PeriodRecord(
            self.start.days.start if self.start is not None else None,
            self.end.days.end if self.end is not None else None,
        )


def period_days(period: Period | None) -> PeriodRecord:
    """:attr:`Period.days`, or an open period when there is none."""
    return period.days if period is not None else PeriodRecord()


class Extension(FhirModel):
    """``Extension`` with the ``value[x]`` types the adapters read, and nested extensions."""

    url: str
    value_boolean: StrictBool | None = None
    value_string: str | None = None
    value_code: str | None = None
    value_date: DateTime | None = None
    value_date_time: DateTime | None = None
    value_coding: Coding | None = None
    value_codeable_concept: CodeableConcept | None = None
    value_reference: Reference | None = None
    value_identifier: Identifier | None = None
    value_period: Period | None = None
    extension: list[Extension] = Field(default_factory=list)


class Meta(FhirModel):
    """``Meta``: version, last update and security labels."""

    version_id: str | None = None
    last_updated: Instant | None = None
    security: list[Coding] = Field(default_factory=list)


class OnsetChoice(FhirModel):
    """The choice type ``onset[x]`` (``Condition``): at most one of dateTime, Period, Age, Range, string."""

    onset_date_time: DateTime | None = None
    onset_period: Period | None = None
    onset_age: dict[str, Any] | None = None
    onset_range: dict[str, Any] | None = None
    onset_string: str | None = None

    @model_validator(mode="after")
    def _one_onset(self) -> OnsetChoice:
        given = [self.onset_date_time, self.onset_period, self.onset_age, self.onset_range, self.onset_string]
        if sum(value is not None for value in given) > 1:
            raise ValueError("onset[x] has more than one type")
        return self

    @property
    def onset_days(self) -> PeriodRecord | None:
        """The local dates the onset may lie in; ``None`` when it cannot be placed in time.

        An ``onsetDateTime`` gives its days, an ``onsetPeriod`` its widest reading (an open end stays
        open); an ``onsetAge``, ``onsetRange`` or ``onsetString`` cannot be placed without the birth
        date and free-text reading, so it is undated.
        """
        if self.onset_date_time is not None:
            return self.onset_date_time.days
        if self.onset_period is not None and (self.onset_period.start or self.onset_period.end):
            return self.onset_period.days
        return None
