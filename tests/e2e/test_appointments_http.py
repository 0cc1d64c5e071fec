"""Appointments from every sector through the gateway, against the sandbox's real HTTP endpoints."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from auth.access_log import SqliteAccessLog
from sandbox.clinical import APPOINTMENT_ENDPOINTS
from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, Gateway, error_codes, recorded, settings_for, slow_endpoint, start_gateway

ENDPOINTS = [e.name for e in APPOINTMENT_ENDPOINTS]

APPOINTMENTS = """
query Appointments($cpr: CPR!, $from: Date, $to: Date, $filter: AppointmentFilter, $first: Int = 100, $after: String) {
  patient(cpr: $cpr) {
    appointments(from: $from, to: $to, filter: $filter) {
      from to withheld complete
      sources { source state }
      list(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id status start end allDay indicativeTime timeNote source title
          organisation { sorId name kind }
          location { sorId name room atHome }
          reason { code display }
        }
      }
    }
  }
}
"""

VIEWS = """
query Views($cpr: CPR!, $from: Date, $to: Date) {
  patient(cpr: $cpr) {
    appointments(from: $from, to: $to) {
      days { date appointments { id start } }
      weeks { year week start end days { date appointments { id start } } }
    }
  }
}
"""


def hans_range(population: Population) -> dict[str, str]:
    return {
        "from": (population.anchor - timedelta(days=60)).isoformat(),
        "to": (population.anchor + timedelta(days=90)).isoformat(),
    }


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = body["data"]["patient"]["appointments"]["list"]["nodes"]
    return result


async def test_a_citizen_sees_appointments_from_a_region_a_municipality_and_their_gp(
    gateway: Gateway, population: Population
) -> None:
    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    assert error_codes(body) == []
    section = body["data"]["patient"]["appointments"]
    assert section["complete"] and not section["withheld"]
    assert {s["source"] for s in section["sources"]} == set(ENDPOINTS)
    found = nodes(body)
    assert {n["organisation"]["kind"] for n in found} == {"REGION", "MUNICIPALITY", "GP"}
    assert "dds" in {n["source"] for n in found}, "at least one appointment came from an APD-DK document"
    starts = [n["start"] for n in found]
    assert starts == sorted(starts)
    assert all(n["start"].endswith(("+01:00", "+02:00")) for n in found), "times are in Danish time"


async def test_an_appointment_shared_by_its_region_and_through_dds_appears_once(
    gateway: Gateway, population: Population
) -> None:
    shared = {
        a.id
        for a in population.clinical.appointments
        if a.cpr == HANS and {"dds", "region-syddanmark"} <= set(a.endpoints) and not a.deprecated
    }
    assert shared, "the sandbox shares some of Hans's region appointments through DDS"

    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    ids = [n["id"] for n in nodes(body)]
    assert len(ids) == len(set(ids))
    assert shared <= set(ids)


async def test_a_replaced_appointment_shows_only_its_newest_version(gateway: Gateway, population: Population) -> None:
    replaced = [a for a in population.clinical.appointments if a.cpr == HANS and a.version > 1 and not a.deprecated]
    assert replaced

    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    by_id = {n["id"]: n for n in nodes(body)}
    for appointment in replaced:
        assert by_id[appointment.id]["start"].startswith(appointment.start.date().isoformat())


async def test_cancelled_appointments_are_left_out_unless_asked_for(gateway: Gateway, population: Population) -> None:
    cancelled = {
        a.id for a in population.clinical.appointments if a.cpr == HANS and (a.deprecated or a.status == "cancelled")
    }
    assert cancelled
    token = gateway.citizen(HANS)

    default = await gateway.graphql(APPOINTMENTS, token, cpr=HANS, **hans_range(population))
    included = await gateway.graphql(
        APPOINTMENTS, token, cpr=HANS, filter={"includeCancelled": True}, **hans_range(population)
    )

    assert not cancelled & {n["id"] for n in nodes(default)}
    shown = {n["id"]: n["status"] for n in nodes(included)}
    assert cancelled <= set(shown)
    assert {shown[i] for i in cancelled} == {"CANCELLED"}


async def test_an_indicative_home_care_visit_says_its_time_is_approximate(
    gateway: Gateway, population: Population
) -> None:
    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    home = [n for n in nodes(body) if n["indicativeTime"]]
    assert home
    assert all(n["timeNote"] and n["organisation"]["kind"] == "MUNICIPALITY" for n in home)


async def test_filtering_by_sector_leaves_other_sectors_endpoints_unasked(
    gateway: Gateway, population: Population
) -> None:
    body = await gateway.graphql(
        APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, filter={"organisationKinds": ["GP"]}, **hans_range(population)
    )

    assert {n["organisation"]["kind"] for n in nodes(body)} == {"GP"}
    for name in ("region-syddanmark", "region-nordjylland", "municipality-odense", "municipality-aalborg"):
        assert recorded(gateway.sandbox, name) == 0
    assert recorded(gateway.sandbox, "gp") == 1


async def test_the_list_view_pages_through_every_appointment_once(gateway: Gateway, population: Population) -> None:
    token = gateway.citizen(HANS)
    whole = nodes(await gateway.graphql(APPOINTMENTS, token, cpr=HANS, **hans_range(population)))
    seen: list[str] = []
    after = None
    for _ in range(50):
        body = await gateway.graphql(APPOINTMENTS, token, cpr=HANS, first=4, after=after, **hans_range(population))
        page = body["data"]["patient"]["appointments"]["list"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [n["id"] for n in whole]


async def test_day_and_week_views_group_the_same_appointments(gateway: Gateway, population: Population) -> None:
    monday = population.anchor - timedelta(days=population.anchor.weekday())
    week = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}

    body = await gateway.graphql(VIEWS, gateway.citizen(HANS), cpr=HANS, **week)

    section = body["data"]["patient"]["appointments"]
    assert len(section["weeks"]) == 1
    iso = monday.isocalendar()
    assert (section["weeks"][0]["year"], section["weeks"][0]["week"]) == (iso.year, iso.week)
    assert section["weeks"][0]["days"] == section["days"]
    assert section["days"], "Hans has appointments in the anchor's week"
    for day in section["days"]:
        assert all(a["start"] <= day["date"] + "T23:59:59" for a in day["appointments"])


async def test_a_region_down_gives_the_others_appointments_and_an_error_naming_it(
    gateway: Gateway, population: Population
) -> None:
    gateway.sandbox.control("region-syddanmark").faults.update({"mode": "down"})

    body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    assert ("SOURCE_UNAVAILABLE", "region-syddanmark") in error_codes(body)
    assert body["errors"][0]["path"] == ["patient", "appointments"]
    section = body["data"]["patient"]["appointments"]
    assert section["complete"] is False
    assert {"source": "region-syddanmark", "state": "UNAVAILABLE"} in section["sources"]
    assert {n["organisation"]["kind"] for n in nodes(body)} >= {"MUNICIPALITY", "GP"}


async def test_a_bad_range_is_bad_user_input_and_nothing_is_fetched(gateway: Gateway) -> None:
    body = await gateway.graphql(
        APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **{"from": "2026-12-01", "to": "2026-11-01"}
    )

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert body["errors"][0]["extensions"]["argument"] == "to"
    for name in ENDPOINTS:
        assert recorded(gateway.sandbox, name) == 0


async def test_the_access_record_notes_appointments_requested_and_returned(
    gateway: Gateway, population: Population
) -> None:
    await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))

    records = await gateway.access_log.for_patient(HANS)
    assert len(records) == 1
    assert "appointments" in records[0].requested and "appointments" in records[0].returned


async def test_a_hanging_document_index_times_out_alone(
    sandbox: ThreadedSandbox, tmp_path: Path, population: Population
) -> None:
    sandbox.control("dds").faults.update({"mode": "hang", "hang_s": 10.0})
    settings = slow_endpoint(settings_for(sandbox, tmp_path), "dds", timeout_s=1.0)  # the others: generous
    store = SqliteAccessLog(tmp_path / "access.db")
    async for gateway in start_gateway(sandbox, settings, store):
        body = await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))
    await store.aclose()

    assert error_codes(body) == [("SOURCE_TIMEOUT", "dds")]
    section = body["data"]["patient"]["appointments"]
    assert {"source": "dds", "state": "TIMEOUT"} in section["sources"]
    assert {n["source"] for n in nodes(body)} >= {"region-syddanmark", "gp"}
