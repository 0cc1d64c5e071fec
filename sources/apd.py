"""MedCom APD-DK 2.0.1: one appointment as a CDA document, parsed safely into an ``AppointmentRecord``.

Documents are parsed with defusedxml and ``forbid_dtd``: a DOCTYPE (and so every entity trick:
external entities, "billion laughs") is refused before anything is expanded. Only the header and
the single ``encounter moodCode="APT"`` entry are read:

- stable ID: the encounter ``id`` (a UUID, the same across versions), lowercase;
- version: header ``versionNumber`` (1 when absent), with ``setId``;
- patient: ``recordTarget/patientRole/id`` with root ``1.2.208.176.1.2`` (CPR);
- sector: encounter ``code`` (MedCom message codes ``1.2.208.184.100.1``);
- status: ``active`` → booked, or fulfilled once its end (its start when the end is unknown) has
  passed; ``completed`` → fulfilled; ``cancelled``/``aborted`` → cancelled; ``nullified`` →
  entered-in-error;
- time: encounter ``effectiveTime`` low/high, kept as instants in UTC and compared as instants (the
  night the clocks go back, 02:30+0200 to 02:15+0100 is 45 minutes); a date-only low, or a low at
  local midnight with an unknown high, is an all-day appointment (its end the next local midnight
  after its last day);
- performer (SOR + organisation name), location (the first participant of a place type: ``LOC``/
  ``DST``: SOR, address, the room in ``playingEntity/name``; ``SBJ``: the citizen's home; any other
  participant, such as a relative, is never read as a place), ``RSON`` reason, ``GuidedIntervalType``
  precondition (an indicative time and its note), ``RepeatingAppointmentType`` series ID;
- title: the narrative table's "Vedrørende" cell, else the section title.

Errors are :class:`ApdParseError` (a ``ValueError``) and carry no document content.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from sources.appointments import KIND_BY_CODE, NULL_FLAVOR_SYSTEM
from sources.clinical import (
    AppointmentRecord,
    AppointmentStatus,
    CodingRecord,
    LocationRecord,
    OrganisationKind,
    OrganisationRef,
)
from sources.datatypes import instant, local_midnight
from sources.identifiers import CPR_PATTERN, normalise_sor
from sources.payloads import COPENHAGEN, ShapeError

MAX_DOCUMENT_BYTES = 512 * 1024
APD_TEMPLATE = "1.2.208.184.14.1"
CPR_OID = "1.2.208.176.1.2"
SOR_OID = "1.2.208.176.1.1"
MEDCOM_CODES_OID = "1.2.208.184.100.1"
SNOMED_OID = "2.16.840.1.113883.6.96"
SNOMED_SYSTEM = "http://snomed.info/sct"

_V3 = "{urn:hl7-org:v3}"
_NS = {"v3": "urn:hl7-org:v3"}
_TS = re.compile(
    r"([0-9]{4})([0-9]{2})([0-9]{2})"  # date
    r"(?:([0-9]{2})([0-9]{2})(?:([0-9]{2})(?:\.[0-9]{1,4})?)?)?"  # time: HHMM[SS[.f]]
    r"([+-][0-9]{4})?"  # offset
)
_STATUS = {
    "completed": AppointmentStatus.FULFILLED,
    "cancelled": AppointmentStatus.CANCELLED,
    "aborted": AppointmentStatus.CANCELLED,
    "nullified": AppointmentStatus.ENTERED_IN_ERROR,
}
_SUBJECT_HEADERS = ("vedrørende", "emne")


class ApdParseError(ValueError):
    """Not a usable APD-DK document (the message names the problem, never the content)."""


class ApdHostileDocument(ApdParseError):
    """A document with a DTD, entities or external references: refused, never expanded."""


@dataclass(frozen=True, slots=True)
class ApdDocument:
    """One parsed APD document: its header identity and the appointment it carries."""

    document_id: str | None
    set_id: str | None
    repeating_id: str | None
    """The series ID of a repeating appointment (``RepeatingAppointmentType`` precondition)."""
    appointment: AppointmentRecord
    """The appointment as of the time the document was parsed."""
    active: bool = False
    """``statusCode`` is ``active``: the status depends on the time it is read (booked, later fulfilled)."""

    def as_of(self, now: datetime) -> AppointmentRecord:
        """The appointment with its status as of ``now`` (a document is immutable; time is not)."""
        if not self.active:
            return self.appointment
        record = self.appointment
        return dataclasses.replace(record, status=_active_status(record.start, record.end, now))


def parse_apd(data: bytes, *, source: str, now: datetime | None = None) -> ApdDocument:
    """Parse one APD-DK 2.0.1 document; raises :class:`ApdParseError` for anything unusable."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ApdParseError("document too large")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ApdHostileDocument("document has a DTD, entities or external references") from exc
    except (SafeET.ParseError, UnicodeDecodeError) as exc:
        raise ApdParseError("document is not well-formed XML") from exc
    if root.tag != f"{_V3}ClinicalDocument":
        raise ApdParseError("document is not a CDA ClinicalDocument")
    if not any(t.get("root") == APD_TEMPLATE for t in root.findall("v3:templateId", _NS)):
        raise ApdParseError("document is not an APD-DK document")
    cpr = _attr(root.find("v3:recordTarget/v3:patientRole/v3:id[@root='" + CPR_OID + "']", _NS), "extension")
    if cpr is None or not CPR_PATTERN.fullmatch(cpr):
        raise ApdParseError("document has no CPR patient")
    encounter = root.find("v3:component/v3:structuredBody/v3:component/v3:section/v3:entry/v3:encounter", _NS)
    if encounter is None or encounter.get("moodCode") != "APT":
        raise ApdParseError("document has no appointment encounter")
    start, end, all_day = _interval(encounter.find("v3:effectiveTime", _NS))
    note = _precondition_text(encounter, "GuidedIntervalType")
    try:
        record = _record(root, encounter, cpr, source, start, end, all_day, note, now)
    except ShapeError as exc:  # the record's own invariant (its instants have a date in Denmark)
        raise ApdParseError(str(exc)) from None
    return ApdDocument(
        document_id=_identifier(root.find("v3:id", _NS)),
        set_id=_identifier(root.find("v3:setId", _NS)),
        repeating_id=_repeating_id(encounter),
        appointment=record,
        active=_attr(encounter.find("v3:statusCode", _NS), "code") == "active",
    )


def _record(
    root: Element,
    encounter: Element,
    cpr: str,
    source: str,
    start: datetime,
    end: datetime | None,
    all_day: bool,
    note: str | None,
    now: datetime | None,
) -> AppointmentRecord:
    code = _attr(encounter.find("v3:code", _NS), "code")
    code_system = _attr(encounter.find("v3:code", _NS), "codeSystem")
    return AppointmentRecord(
        id=_stable_id(encounter),
        cpr=cpr,
        source=source,
        organisation=_performer(encounter, KIND_BY_CODE.get(code or "") if code_system == MEDCOM_CODES_OID else None),
        status=_status(encounter, start, end, now or datetime.now(UTC)),
        start=start,
        end=end,
        all_day=all_day,
        indicative=note is not None,
        time_note=note,
        location=_location(encounter),
        reason=_reason(encounter),
        title=_title(root),
        version=_version(root),
        updated=_optional_datetime(_attr(root.find("v3:effectiveTime", _NS), "value")),
    )


def newest_per_appointment(records: Iterable[AppointmentRecord]) -> list[AppointmentRecord]:
    """One record per stable appointment ID: the highest version (then the latest document time)."""
    newest: dict[str, AppointmentRecord] = {}
    for record in records:
        current = newest.get(record.id)
        if current is None or _rank(record) > _rank(current):
            newest[record.id] = record
    return list(newest.values())


def _rank(record: AppointmentRecord) -> tuple[int, datetime]:
    return record.version, record.updated or datetime.min.replace(tzinfo=UTC)


def _attr(element: Element | None, name: str) -> str | None:
    value = element.get(name) if element is not None else None
    return value.strip() if value and value.strip() else None


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _identifier(element: Element | None) -> str | None:
    return _attr(element, "extension") or _attr(element, "root")


def _stable_id(encounter: Element) -> str:
    element = encounter.find("v3:id", _NS)
    for candidate in (_attr(element, "extension"), _attr(element, "root")):
        if candidate is None:
            continue
        try:
            return str(uuid.UUID(candidate))
        except ValueError:
            continue
    raise ApdParseError("appointment ID is not a UUID")


def _version(root: Element) -> int:
    value = _attr(root.find("v3:versionNumber", _NS), "value")
    if value is None:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ApdParseError("versionNumber is not a positive integer")
    return int(value)


def _timestamp(value: str) -> date | datetime:
    match = _TS.fullmatch(value)
    if match is None:
        raise ApdParseError("timestamp is not a HL7 TS")
    year, month, day, hour, minute, second, offset = match.groups()
    if (hour is None) != (offset is None):
        raise ApdParseError("a time needs an offset, a date has none")
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        parsed = datetime.strptime(f"{year}{month}{day}{hour}{minute}{second or '00'}{offset}", "%Y%m%d%H%M%S%z")
    except ValueError as exc:
        raise ApdParseError("timestamp is not a valid time") from exc
    try:
        return instant(parsed)
    except ValueError:
        raise ApdParseError("timestamp lies beyond the calendar") from None


def _optional_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = _timestamp(value)
    return parsed if isinstance(parsed, datetime) else _midnight(parsed)


def _midnight(day: date) -> datetime:
    """Local midnight starting ``day``, as an instant in UTC."""
    try:
        return local_midnight(day)
    except ValueError:
        raise ApdParseError("timestamp lies beyond the calendar") from None


def _interval(element: Element | None) -> tuple[datetime, datetime | None, bool]:
    low = _attr(element.find("v3:low", _NS) if element is not None else None, "value")
    if low is None:
        raise ApdParseError("appointment has no start")
    high = _attr(element.find("v3:high", _NS) if element is not None else None, "value")
    begins = _timestamp(low)
    ends = _timestamp(high) if high is not None else None
    all_day = not isinstance(begins, datetime) or (ends is None and begins.astimezone(COPENHAGEN).time() == time())
    start = begins if isinstance(begins, datetime) else _midnight(begins)
    try:
        if isinstance(ends, datetime):
            end: datetime | None = ends
        elif ends is not None:
            end = _midnight(ends + timedelta(days=1))
        else:
            end = _midnight(start.astimezone(COPENHAGEN).date() + timedelta(days=1)) if all_day else None
    except OverflowError:
        raise ApdParseError("appointment ends after the last day of the calendar") from None
    if end is not None and end < start:
        raise ApdParseError("appointment ends before it starts")
    return start, end, all_day


def _status(encounter: Element, start: datetime, end: datetime | None, now: datetime) -> AppointmentStatus:
    code = _attr(encounter.find("v3:statusCode", _NS), "code")
    if code == "active":
        return _active_status(start, end, now)
    if code in _STATUS:
        return _STATUS[code]
    raise ApdParseError("appointment status is not recognised")


def _active_status(start: datetime, end: datetime | None, now: datetime) -> AppointmentStatus:
    """An active appointment is booked until its end (its start when the end is unknown) has passed."""
    return AppointmentStatus.FULFILLED if (end or start) < now else AppointmentStatus.BOOKED


def _performer(encounter: Element, kind: OrganisationKind | None) -> OrganisationRef:
    entity = encounter.find("v3:performer/v3:assignedEntity", _NS)
    if entity is None:
        raise ApdParseError("appointment has no performer")
    name = _text(entity.find("v3:representedOrganization/v3:name", _NS))
    if name is None:
        raise ApdParseError("performer has no organisation name")
    return OrganisationRef(_sor(entity), name, kind)


def _address(element: Element | None) -> str | None:
    if element is None or element.get("nullFlavor"):
        return None
    lines = [t for t in (_text(line) for line in element.findall("v3:streetAddressLine", _NS)) if t]
    town = " ".join(t for t in (_text(element.find("v3:postalCode", _NS)), _text(element.find("v3:city", _NS))) if t)
    return ", ".join([*lines, town] if town else lines) or None


_PLACE_TYPES = ("LOC", "DST", "SBJ")
"""Participant type codes that name where the appointment is: a location, a destination, the subject's home."""


def _location(encounter: Element) -> LocationRecord | None:
    participant = next((p for p in encounter.findall("v3:participant", _NS) if p.get("typeCode") in _PLACE_TYPES), None)
    role = participant.find("v3:participantRole", _NS) if participant is not None else None
    if participant is None or role is None:
        return None
    address = _address(role.find("v3:addr", _NS))
    place = _text(role.find("v3:playingEntity/v3:name", _NS))
    if participant.get("typeCode") == "SBJ":
        return LocationRecord(name=place, address=address, at_home=True)
    return LocationRecord(sor=_sor(role), address=address, room=place)


def _sor(element: Element) -> str | None:
    """The element's SOR code in its normal form; ``None`` when it has none, an error when it is not one."""
    written = _attr(element.find(f"v3:id[@root='{SOR_OID}']", _NS), "extension")
    if written is None:
        return None
    sor = normalise_sor(written)
    if sor is None:
        raise ApdParseError("a SOR code that is not one")
    return sor


def _reason(encounter: Element) -> CodingRecord | None:
    code = encounter.find("v3:entryRelationship[@typeCode='RSON']/v3:observation/v3:code", _NS)
    if code is None:
        return None
    display = _attr(code, "displayName") or _text(code.find("v3:originalText", _NS))
    value, system = _attr(code, "code"), _attr(code, "codeSystem")
    if value is None or value == "NI" or code.get("nullFlavor"):
        return CodingRecord(NULL_FLAVOR_SYSTEM, "NI", display) if display else None
    if system is None:
        return CodingRecord("", value, display)
    return CodingRecord(SNOMED_SYSTEM if system == SNOMED_OID else f"urn:oid:{system}", value, display)


def _criteria(encounter: Element, code: str) -> list[Element]:
    return [
        criterion
        for criterion in encounter.findall("v3:precondition/v3:criterion", _NS)
        if _attr(criterion.find("v3:code", _NS), "code") == code
    ]


def _precondition_text(encounter: Element, code: str) -> str | None:
    return next((t for t in (_text(c.find("v3:text", _NS)) for c in _criteria(encounter, code)) if t), None)


def _repeating_id(encounter: Element) -> str | None:
    for code in ("RepeatingAppointmentType", "RepeatingDocumentType"):
        for criterion in _criteria(encounter, code):
            if value := _attr(criterion.find("v3:value", _NS), "extension"):
                return value.lower()
    return None


def _title(root: Element) -> str | None:
    section = root.find("v3:component/v3:structuredBody/v3:component/v3:section", _NS)
    if section is None:
        return None
    for table in section.iterfind("v3:text//v3:table", _NS):
        rows = list(table.iterfind(".//v3:tr", _NS))
        headers = [(_text(th) or "").casefold() for th in rows[0].findall("v3:th", _NS)] if rows else []
        column = next((i for i, h in enumerate(headers) if h in _SUBJECT_HEADERS), None)
        if column is None:
            continue
        for row in rows[1:]:
            cells = row.findall("v3:td", _NS)
            if column < len(cells) and (subject := _text(cells[column])):
                return subject
    return _text(section.find("v3:title", _NS))
