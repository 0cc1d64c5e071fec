"""Min Log through the gateway: the patient sees who looked at their data, in Danish, page by page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from resolvers.bounds import years_before
from sources.payloads import COPENHAGEN
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, Gateway, error_codes
from tests.entry_points import BOTH

ACCESS_LOG = """
query Log($cpr: CPR!, $from: Date, $to: Date, $first: Int = 20, $after: String) {
  patient(cpr: $cpr) {
    accessLog(from: $from, to: $to, first: $first, after: $after) {
      from to
      nodes {
        id at activity who whoKind role organisationName organisationSorId system onBehalfOf
        what categories withheld denied summary
        override { ground groundText reason }
      }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
}
"""

APPOINTMENTS = "query($cpr: CPR!) { patient(cpr: $cpr) { appointments { list { nodes { id } } } } }"


pytestmark = BOTH  # through patient(cpr:) and through _entities (ADR 0022)


def today() -> date:
    return datetime.now(COPENHAGEN).date()


async def read_log(gateway: Gateway, **variables: Any) -> dict[str, Any]:
    body = await gateway.graphql(ACCESS_LOG, gateway.citizen(HANS), cpr=HANS, **variables)
    assert error_codes(body) == [], body
    log: dict[str, Any] = body["data"]["patient"]["accessLog"]
    return log


async def doctor_reads_appointments(gateway: Gateway) -> None:
    body = await gateway.graphql(APPOINTMENTS, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=HANS)
    assert error_codes(body) == []


async def test_the_patient_finds_the_doctor_who_read_their_appointments(gateway: Gateway) -> None:
    await doctor_reads_appointments(gateway)

    log = await read_log(gateway)

    (entry,) = log["nodes"]
    assert entry["who"] == "Mette Test Larsen"
    assert (entry["whoKind"], entry["role"], entry["activity"]) == ("PROFESSIONAL", "Læge", "READ")
    assert entry["what"] == ["dine aftaler"] and entry["categories"] == ["APPOINTMENTS"]
    assert entry["summary"].startswith("Mette Test Larsen (læge, ")
    assert entry["summary"].endswith(") så dine aftaler.")
    assert entry["organisationName"] and entry["organisationSorId"]
    assert log["totalCount"] == 1
    assert entry["override"] is None and entry["system"] is None
    assert datetime.fromisoformat(entry["at"]).utcoffset() == datetime.now(COPENHAGEN).utcoffset()
    assert DOCTOR_WITH_RELATIONS not in str(entry)
    assert (log["from"], log["to"]) == (str(years_before(today(), 2)), str(today()))


async def test_reading_the_log_is_itself_in_the_log_next_time(gateway: Gateway) -> None:
    await doctor_reads_appointments(gateway)
    first = await read_log(gateway)

    again = await read_log(gateway)

    assert len(first["nodes"]) == 1
    mine, doctors = again["nodes"]
    assert (mine["who"], mine["role"], mine["whoKind"]) == ("Dig selv", "Dig", "CITIZEN")
    assert mine["what"] == ["din log"] and mine["summary"] == "Du så din log."
    assert doctors["id"] == first["nodes"][0]["id"]
    assert HANS not in str(again)


async def test_paging_walks_every_entry_once_newest_first(gateway: Gateway) -> None:
    for _ in range(3):
        await doctor_reads_appointments(gateway)
    await read_log(gateway, first=1)
    expected = [r.id for r in await gateway.access_log.for_patient(HANS, limit=100)]

    seen: list[str] = []
    totals: list[int] = []
    after = None
    while True:
        page = await read_log(gateway, first=2, after=after)
        seen += [e["id"] for e in page["nodes"]]
        totals.append(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(expected) == 4
    assert seen == expected
    assert totals == [4, 5]  # the whole range, the first page's own reading included once it was recorded


async def test_dates_filter_the_log_by_danish_calendar_day(gateway: Gateway) -> None:
    await doctor_reads_appointments(gateway)
    day = today()

    on_the_day = await read_log(gateway, **{"from": str(day), "to": str(day)})
    before = await read_log(gateway, **{"from": str(day - timedelta(days=30)), "to": str(day - timedelta(days=1))})
    tomorrow = str(day + timedelta(days=1))
    after = await read_log(gateway, **{"from": tomorrow, "to": tomorrow})

    assert [e["who"] for e in on_the_day["nodes"]] == ["Mette Test Larsen"]
    assert before["nodes"] == [] and before["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert after["nodes"] == []


async def test_bad_arguments_are_bad_user_input_naming_the_argument_and_nothing_is_read(gateway: Gateway) -> None:
    """Checked before execution (``gateway.arguments``): the request runs nothing and leaves no record."""
    day = today()
    records_before = len(await gateway.access_log.for_patient(HANS, limit=1000))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"after": "bm90LWEtY3Vyc29y"}, "after"),
        ({"from": str(day), "to": str(day - timedelta(days=1))}, "to"),
        ({"from": str(day - timedelta(days=3 * 365))}, "from"),
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
    ]
    for variables, argument in cases:
        body = await gateway.graphql(ACCESS_LOG, gateway.citizen(HANS), cpr=HANS, **variables)

        assert body["data"] is None
        assert error_codes(body) == [("BAD_USER_INPUT", None)]
        assert body["errors"][0]["extensions"]["argument"] == argument
        assert "path" not in body["errors"][0]
    assert len(await gateway.access_log.for_patient(HANS, limit=1000)) == records_before
