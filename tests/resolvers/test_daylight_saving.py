"""The nights the clocks change: ordering, paging and durations are those of instants, not of wall clocks.

Appointments around both Danish transitions of every year 2020-2030 are written the way real sources
write them (local time with the offset in force, or UTC), read through the FHIR adapter, merged, and
paged with ``list(first: n)`` for every page size: each appears exactly once, in instant order, with its
true duration; the views show them in Danish local time with the right offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.appointments import Appointment, Appointments
from resolvers.gather import merge_appointments
from sources.appointments import FhirAppointmentSource
from sources.base import SourceClient, SourceConfig
from sources.clinical import AppointmentRecord, ClinicalSearch, Endpoint, OrganisationKind
from sources.payloads import COPENHAGEN

CPR = "2510611681"
SOR = "378641000016007"


def transitions(year: int) -> tuple[datetime, datetime]:
    """The instants (UTC) the clocks go forward (last Sunday of March) and back (last Sunday of October)."""

    def last_sunday(month: int) -> date:
        day = date(year, month, 31)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    return (
        datetime.combine(last_sunday(3), datetime.min.time(), UTC) + timedelta(hours=1),
        datetime.combine(last_sunday(10), datetime.min.time(), UTC) + timedelta(hours=1),
    )


def wire(moment: datetime, style: str) -> str:
    """``moment`` as a source writes it: local time with its offset (of either side of the change), or UTC."""
    if style == "utc":
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.astimezone(COPENHAGEN).isoformat(timespec="minutes" if style == "minutes" else "seconds")


def resource(number: int, start: datetime, minutes: int, style: str) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "id": f"a{number:03d}",
        "status": "booked",
        "start": wire(start, style),
        "end": wire(start + timedelta(minutes=minutes), style),
        "participant": [
            {"actor": {"type": "Patient", "identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": CPR}}},
            {
                "actor": {
                    "type": "HealthcareService",
                    "identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": SOR},
                    "display": "Nefrologisk Afdeling Y, OUH",
                }
            },
        ],
    }


visits = st.lists(
    st.tuples(
        st.integers(2020, 2030),
        st.booleans(),
        st.integers(-150, 150),
        st.sampled_from([0, 15, 45, 60, 75, 120]),
        st.sampled_from(["local", "minutes", "utc"]),
    ),
    min_size=1,
    max_size=12,
)


async def read(resources: list[dict[str, Any]]) -> list[AppointmentRecord]:
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=bundle))
    async with httpx.AsyncClient(transport=transport, base_url="http://region.mock") as http:
        client = SourceClient(SourceConfig("region", "http://region.mock"), http)
        source = FhirAppointmentSource(client, Endpoint("region", OrganisationKind.REGION))
        answer = await source.appointments_for(ClinicalSearch((CPR,)))
    assert answer.problems == ()
    return answer.by_patient[CPR]


def view(records: list[AppointmentRecord]) -> Appointments:
    return Appointments(
        start=date(2020, 1, 1), end=date(2030, 12, 31), withheld=False, complete=True, sources=[], records=records
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(visits)
async def test_every_page_size_shows_each_visit_once_in_instant_order_with_its_true_duration(visits):
    expected: dict[str, tuple[datetime, int]] = {}
    resources = []
    for number, (year, spring, offset, minutes, style) in enumerate(visits):
        start = transitions(year)[0 if spring else 1] + timedelta(minutes=offset)
        resources.append(resource(number, start, minutes, style))
        expected[f"a{number:03d}"] = (start, minutes)

    records = merge_appointments(await read(resources))

    assert [r.start for r in records] == sorted(r.start for r in records)
    for record in records:
        start, minutes = expected[record.id]
        assert record.start == start
        assert record.end is not None and record.end - record.start == timedelta(minutes=minutes) >= timedelta()
        shown = Appointment.from_record(record)  # PEP 495: a repeated hour (fold=1) never == another zone's time
        assert shown.start.astimezone(UTC) == start
        assert shown.start.isoformat() == start.astimezone(COPENHAGEN).isoformat()
    for first in range(1, len(records) + 1):
        seen: list[str] = []
        after = None
        while True:
            page = view(records).list_view(first=first, after=after)
            seen += [str(node.id) for node in page.nodes]
            if not page.page_info.has_next_page:
                break
            after = page.page_info.end_cursor
        assert seen == [r.id for r in records], f"first={first}"


async def test_the_night_the_clocks_go_back_keeps_a_45_minute_visit_and_orders_three_visits_by_instant():
    across = resource(1, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 45, "local")
    assert (across["start"], across["end"]) == ("2026-10-25T02:30:00+02:00", "2026-10-25T02:15:00+01:00")
    winter = resource(2, datetime(2026, 10, 25, 1, 15, tzinfo=UTC), 15, "local")  # 02:15+01:00
    summer = resource(3, datetime(2026, 10, 25, 0, 45, tzinfo=UTC), 15, "local")  # 02:45+02:00

    records = merge_appointments(await read([winter, across, summer]))

    assert [r.id for r in records] == ["a001", "a003", "a002"]
    assert records[0].end is not None and records[0].end - records[0].start == timedelta(minutes=45)
    pages = []
    after = None
    for _ in range(3):
        page = view(records).list_view(first=1, after=after)
        pages += [node.start.isoformat() for node in page.nodes]
        after = page.page_info.end_cursor
    assert pages == ["2026-10-25T02:30:00+02:00", "2026-10-25T02:45:00+02:00", "2026-10-25T02:15:00+01:00"]
    [day] = view(records).days()
    assert day.day == date(2026, 10, 25) and [str(a.id) for a in day.appointments] == ["a001", "a003", "a002"]
