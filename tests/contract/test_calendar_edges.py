"""Appointments at the ends of the calendar: one odd item is left out and reported, never an internal error.

An upstream may send any instant: ``9999-12-31T23:30:00Z`` is already year 10000 in Denmark, and
``0001-01-01T00:30:00+02:00`` is year 0 in UTC. The FHIR and APD-DK adapters check every instant
at the source boundary (``sources.datatypes.instant``) and the appointment record checks its own
(ADR 0011, issue 10): an appointment whose times have no date in Denmark is invalid, left out with a
``SOURCE_INVALID_RESPONSE`` problem; one that is kept can be localised by every view (list, day, week).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.appointments import build
from resolvers.gather import Gathered
from sources.apd import ApdParseError, parse_apd
from sources.appointments import FhirAppointmentSource
from sources.clinical import AppointmentRecord, ClinicalSearch, Endpoint, OrganisationKind
from sources.errors import SourceResponseInvalid
from tests.contract.conftest import MockClientFactory
from tests.contract.test_appointments_source import _resource
from tests.sources.test_datatypes import EDGE_TIMES, OFFSET_MINUTES, has_a_danish_date, written

NANCY = "2512489996"
ALL_DAY_URL = "http://patientoverblik.dk/fhir/StructureDefinition/all-day"
ENDPOINT = Endpoint("region-syddanmark", OrganisationKind.REGION)
MUNICIPAL = (Path(__file__).parent / "fixtures" / "apd" / "municipal_minimum.xml").read_text()
GOOD_ID = "00000000-0000-4000-8000-000000000009"


def shown(record: AppointmentRecord) -> None:
    """Put ``record`` through every view that localises its times (raises if one cannot)."""
    record.day  # noqa: B018 - the local day is what windows and filters compare
    view = build(Gathered([record]), date(2026, 1, 1), date(2026, 1, 31), withheld=False)
    view.list_view()
    view.days(include_empty_days=False)
    view.weeks(include_empty_days=False)


def resource(number: int, start: str, end: str | None, all_day: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {"end": end} if end is not None else {}
    if all_day:
        changes["extension"] = [{"url": ALL_DAY_URL, "valueBoolean": True}]
    return _resource(number, start, **changes)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    naive=EDGE_TIMES,
    offset=st.none() | OFFSET_MINUTES,
    minutes=st.none() | st.integers(0, 6 * 60),
    all_day=st.booleans(),
)
async def test_a_fhir_appointment_at_the_calendars_ends_is_kept_and_shown_or_left_out_and_reported(
    mock_client: MockClientFactory, naive: datetime, offset: int | None, minutes: int | None, all_day: bool
) -> None:
    ends = None
    if minutes is not None and datetime.max - naive >= timedelta(minutes=minutes):
        ends = written(naive + timedelta(minutes=minutes), offset)
    edge = resource(1, written(naive, offset), ends, all_day)
    good = resource(9, "2026-01-05T09:00:00+01:00", None, False)
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": edge}, {"resource": good}]}
    client = mock_client(lambda request: httpx.Response(200, json=bundle), "region-syddanmark")

    answer = await FhirAppointmentSource(client, ENDPOINT).appointments_for(ClinicalSearch((NANCY,)))

    kept = answer.by_patient[NANCY]
    assert GOOD_ID in [r.id for r in kept]
    for record in kept:
        shown(record)
    if len(kept) == 1:
        [problem] = answer.problems
        assert isinstance(problem.error, SourceResponseInvalid)
        assert problem.error.source == "region-syddanmark"
    else:
        assert answer.problems == ()
    if not all_day and not has_a_danish_date(naive, offset or 0):
        assert len(kept) == 1


def apd_time(naive: datetime, offset: int | None) -> str:
    """``naive`` as an HL7 TS: ``YYYYMMDDHHMMSS±HHMM``, or a date (``YYYYMMDD``) without an offset."""
    day = f"{naive.year:04d}{naive.month:02d}{naive.day:02d}"
    if offset is None:
        return day
    sign, minutes = ("-" if offset < 0 else "+"), abs(offset)
    return f"{day}{naive:%H%M%S}{sign}{minutes // 60:02d}{minutes % 60:02d}"


@given(naive=EDGE_TIMES, offset=st.none() | OFFSET_MINUTES, minutes=st.none() | st.integers(0, 6 * 60))
def test_an_apd_appointment_at_the_calendars_ends_is_kept_and_shown_or_refused_as_a_document(
    naive: datetime, offset: int | None, minutes: int | None
) -> None:
    text = MUNICIPAL.replace('<low value="20301231235900+0100"/>', f'<low value="{apd_time(naive, offset)}"/>')
    if minutes is not None and datetime.max - naive >= timedelta(minutes=minutes):
        text = text.replace(
            '<high nullFlavor="NI"/>', f'<high value="{apd_time(naive + timedelta(minutes=minutes), offset)}"/>'
        )

    try:
        document = parse_apd(text.encode(), source="dds", now=datetime(2030, 1, 1, tzinfo=UTC))
    except ApdParseError:  # the document is refused: the DDS adapter leaves it out and reports it
        return
    shown(document.appointment)
    if offset is not None:
        aware = naive.replace(tzinfo=timezone(timedelta(minutes=offset)))
        assert document.appointment.start == aware
