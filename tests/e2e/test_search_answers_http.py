"""What real FHIR servers put in a searchset: an error outcome in a 200 answer, and their own paging links.

The sandbox's knobs (``sandbox/control.py``) make an endpoint answer as HAPI and other servers do; the
overview still shows what the endpoint gave, says `complete: false` with an error naming it when the
answer is partial, and follows the paging links a real server sends (but never to another host).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auth.access_log import SqliteAccessLog
from gateway.settings import EndpointSettings
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, Gateway, error_codes, settings_for, start_gateway

APPOINTMENTS = """
query Appointments($cpr: CPR!) {
  patient(cpr: $cpr) {
    appointments(from: "2020-01-01", to: "2029-12-31") {
      complete sources { source state } list(first: 100) { totalCount nodes { id source } }
    }
    diagnoses { complete sources { source state } nodes { code } }
  }
}
"""


async def ask(gateway: Gateway) -> dict[str, Any]:
    return await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS)


def states(section: dict[str, Any]) -> dict[str, str]:
    return {s["source"]: s["state"] for s in section["sources"]}


def ids(body: dict[str, Any], source: str | None = None) -> list[str]:
    nodes = body["data"]["patient"]["appointments"]["list"]["nodes"]
    return sorted(n["id"] for n in nodes if source is None or n["source"] == source)


@pytest.mark.parametrize("severity", ["error", "fatal"])
async def test_an_error_outcome_in_a_200_answer_makes_the_section_incomplete_naming_the_source(
    gateway: Gateway, severity: str
) -> None:
    calm = await ask(gateway)
    gateway.sandbox.control("region-syddanmark").faults.update({"outcome": severity})
    gateway.sandbox.control("plans-hospital").faults.update({"outcome": severity})

    body = await ask(gateway)

    patient = body["data"]["patient"]
    assert patient["appointments"]["complete"] is False
    assert states(patient["appointments"])["region-syddanmark"] == "INCOMPLETE"
    assert ids(body) == ids(calm)  # what it gave is still shown
    assert patient["diagnoses"]["complete"] is False
    assert states(patient["diagnoses"])["plans-hospital"] == "INCOMPLETE"
    assert set(error_codes(body)) == {
        ("SOURCE_INCOMPLETE", "region-syddanmark"),
        ("SOURCE_INCOMPLETE", "plans-hospital"),
    }
    assert "partition" not in str(body)  # the upstream's own text never passes


@pytest.mark.parametrize("severity", ["warning", "information"])
async def test_a_warning_outcome_leaves_the_answer_complete(gateway: Gateway, severity: str) -> None:
    gateway.sandbox.control("region-syddanmark").faults.update({"outcome": severity})

    body = await ask(gateway)

    assert error_codes(body) == []
    assert body["data"]["patient"]["appointments"]["complete"] is True


@pytest.mark.parametrize("style", ["hapi", "relative", "absolute"])
async def test_paging_links_real_servers_send_are_followed_with_a_page_size_cap(gateway: Gateway, style: str) -> None:
    calm = await ask(gateway)
    control = gateway.sandbox.control("region-syddanmark")
    control.faults.update({"next_link": style, "max_count": 2})
    control.recorder.clear()

    body = await ask(gateway)

    assert error_codes(body) == []
    assert body["data"]["patient"]["appointments"]["complete"] is True
    assert ids(body, "region-syddanmark") == ids(calm, "region-syddanmark")
    paths = {r.path for r in control.recorder.requests}
    assert paths == ({"/fhir/Appointment", "/fhir"} if style == "hapi" else {"/fhir/Appointment"})
    assert len(control.recorder.requests) > 2


async def test_a_page_budget_that_runs_out_gives_the_items_so_far_and_a_coded_error(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    region = next(e for e in settings.appointment_endpoints if e.name == "region-syddanmark")
    limited = EndpointSettings(**{**region.model_dump(), "max_pages": 2})
    settings.appointment_endpoints = [limited if e.name == region.name else e for e in settings.appointment_endpoints]
    sandbox.control("region-syddanmark").faults.update({"max_count": 3, "next_link": "hapi"})
    store = SqliteAccessLog(tmp_path / "a.db")
    async for gateway in start_gateway(sandbox, settings, store):
        body = await ask(gateway)
    await store.aclose()

    appointments = body["data"]["patient"]["appointments"]
    assert appointments["complete"] is False
    assert states(appointments)["region-syddanmark"] == "INCOMPLETE"
    assert 0 < len(ids(body, "region-syddanmark")) <= 6
    assert ("SOURCE_INCOMPLETE", "region-syddanmark") in error_codes(body)
    assert len(sandbox.control("region-syddanmark").recorder.requests) == 2
