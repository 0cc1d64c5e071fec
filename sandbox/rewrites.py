"""How odd real servers write what a simulated source sends: knobs that rewrite its answers (issue 10).

:class:`~sandbox.control.Controlled` hands every JSON ``Bundle`` and every XML document a source
answers to :func:`rewrite_bundle` or :func:`rewrite_document` when a knob asks for it
(``docs/sandbox.md``, "Knobs"). The source's own data never changes; only its spelling on the wire:

- ``outcome``: an ``OperationOutcome`` entry of that severity on every page (also the odd ``ERROR``
  and ``critical``, outside FHIR's four);
- ``search_mode``: every result entry's ``search.mode`` written ``Match``, ``other``, ``include`` or
  ``outcome``, or left out (``none``);
- ``instants``: every time written in UTC (``utc``: ``Z``) or at ``+05:00`` (``offset``) instead of
  Danish local time, and every plain date of a start, end, recorded, start or due date written as
  the instant of its Danish local midnight; APD-DK timestamps likewise (``+0000``, ``+0500``);
- ``sor_form``: every SOR code written with a leading zero (``zero_padded``) or surrounded by spaces
  (``spaced``);
- ``appointment_type``: an ``Appointment``'s sector label (MedCom ``appointmentType``) left out
  (``none``), always ``RegionalAppointment`` (``region``), or with a trailing space (``padded``).

The sandbox imports no product code: it spells every wire value out itself.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

OUTCOMES = ("", "error", "fatal", "warning", "information", "ERROR", "critical")
SEARCH_MODES = ("match", "Match", "other", "include", "outcome", "none")
INSTANTS = ("local", "utc", "offset")
SOR_FORMS = ("plain", "zero_padded", "spaced")
APPOINTMENT_TYPES = ("sor", "none", "region", "padded")

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
SOR_OID = "1.2.208.176.1.1"
MEDCOM_MESSAGE_CODES = "urn:oid:1.2.208.184.100.1"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
FAR_OFFSET = timezone(timedelta(hours=5))
"""The offset ``instants: offset`` writes: far enough east that evening times fall on the next date."""

_TIME_KEYS = frozenset({"start", "end", "recordedDate", "startDate", "dueDate", "onsetDateTime", "lastUpdated"})
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_TS = re.compile(rb'value="([0-9]{14})([+-][0-9]{4})"')
_SOR_ID = re.compile(rb'(root="' + SOR_OID.encode() + rb'" extension=")([0-9]+)(")')


def rewrites(knobs: Any) -> bool:
    """Whether any knob asks for a rewrite (answers are passed through untouched otherwise)."""
    return (
        bool(knobs.outcome)
        or knobs.search_mode != "match"
        or knobs.instants != "local"
        or knobs.sor_form != "plain"
        or knobs.appointment_type != "sor"
    )


def rewrite_bundle(bundle: dict[str, Any], knobs: Any) -> None:
    """Respell a ``Bundle`` (in place) as the knobs say."""
    entries = bundle.setdefault("entry", [])
    if knobs.search_mode != "match":
        for entry in entries:
            if isinstance(entry, dict) and (entry.get("search") or {}).get("mode", "match") == "match":
                if knobs.search_mode == "none":
                    entry.pop("search", None)
                else:
                    entry["search"] = {"mode": knobs.search_mode}
    if knobs.outcome:
        issue = {"severity": knobs.outcome, "code": "timeout", "diagnostics": "partition timed out"}
        entries.append(
            {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}
        )
    _walk(bundle, knobs)


def _walk(node: Any, knobs: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, knobs)
        return
    if not isinstance(node, dict):
        return
    if node.get("resourceType") == "Appointment" and knobs.appointment_type != "sor":
        _label(node, knobs.appointment_type)
    if knobs.sor_form != "plain" and node.get("system") == SOR_SYSTEM and isinstance(node.get("value"), str):
        node["value"] = _sor(node["value"], knobs.sor_form)
    for key, value in node.items():
        if knobs.instants != "local" and key in _TIME_KEYS and isinstance(value, str):
            node[key] = _instant(value, knobs.instants)
        else:
            _walk(value, knobs)


def _label(appointment: dict[str, Any], style: str) -> None:
    if style == "none":
        appointment.pop("appointmentType", None)
    elif style == "region":
        appointment["appointmentType"] = {"coding": [{"system": MEDCOM_MESSAGE_CODES, "code": "RegionalAppointment"}]}
    else:
        for coding in (appointment.get("appointmentType") or {}).get("coding", []):
            coding["code"] = f"{coding.get('code', '')} "


def _sor(value: str, form: str) -> str:
    return "0" + value if form == "zero_padded" else f" {value} "


def _instant(value: str, style: str) -> str:
    """A FHIR dateTime (or a plain date: its Danish local midnight) as the same instant in ``style``."""
    if _DATE_TIME.fullmatch(value):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif _DATE.fullmatch(value):
        moment = datetime.combine(date.fromisoformat(value), time(), COPENHAGEN)
    else:
        return value  # a year or a month stays what it is
    if style == "utc":
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.astimezone(FAR_OFFSET).isoformat()


def rewrite_document(document: bytes, knobs: Any) -> bytes:
    """Respell an APD-DK document: its timestamps in ``instants`` style, its SOR codes in ``sor_form``."""
    if knobs.instants != "local":
        zone = UTC if knobs.instants == "utc" else FAR_OFFSET

        def restyle(match: re.Match[bytes]) -> bytes:
            moment = datetime.strptime((match.group(1) + match.group(2)).decode(), "%Y%m%d%H%M%S%z")
            return b'value="' + moment.astimezone(zone).strftime("%Y%m%d%H%M%S%z").encode() + b'"'

        document = _TS.sub(restyle, document)
    if knobs.sor_form != "plain":
        document = _SOR_ID.sub(
            lambda m: m.group(1) + _sor(m.group(2).decode(), knobs.sor_form).encode() + m.group(3), document
        )
    return document
