"""Contract tests for the Min Log sink against the simulated national log."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from auth.access_log_rows import PendingRecord
from auth.export import ExportFailed, export_pending
from sandbox import minlog
from sandbox.personas import NEPHROLOGY_SOR
from sandbox.population import Population
from sources.audit import AccessRecord, SinkRefusal
from sources.base import SourceClient
from sources.errors import SourceResponseInvalid, SourceUnavailable
from sources.minlog import (
    AUTHORIZATION_SYSTEM,
    CLIENT_SYSTEM,
    USER_ID_SYSTEM,
    MinLogSink,
    UnmappableRecord,
    audit_event,
    batch_bundle,
)
from sources.payloads import CPR_SYSTEM, SOR_SYSTEM
from tests.contract.conftest import MockClientFactory, SandboxClientFactory
from tests.records import access_record, changed

HANS = "1403723705"
BIRTHE = "2309510372"
MOTHER, CHILD = "1908830938", "1006154216"
AT = datetime(2026, 11, 21, 9, 15, tzinfo=UTC)

DOCTOR_READS_HANS = access_record(
    at=AT,
    requested=("person", "appointments"),
    returned=("person", "appointments"),
    withheld=("appointments",),
)
HANS_READS_OWN = changed(
    DOCTOR_READS_HANS,
    id="rec-2",
    at=AT + timedelta(minutes=45),
    actor_kind="citizen",
    actor_id=HANS,
    actor_name="Hans Test Jensen",
    profession=None,
    organisation_sor=None,
    organisation_name=None,
    client_id="sundhed-app",
    withheld=(),
)


def record(**changes: Any) -> AccessRecord:
    return changed(DOCTOR_READS_HANS, **changes)


def requestor(event: dict[str, Any]) -> Any:
    (agent,) = [a for a in event["agent"] if a["requestor"]]
    return agent


def identifiers(event: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["who"]["identifier"]["system"], a["who"]["identifier"]["value"]) for a in event["agent"]]


async def search(client: SourceClient, **params: str) -> list[dict[str, Any]]:
    bundle = await client.get_json("/fhir/AuditEvent", params)
    assert bundle["type"] == "searchset"
    return [entry["resource"] for entry in bundle.get("entry", [])]


async def test_sent_events_arrive_and_are_searchable_by_patient_newest_first(
    population: Population, sandbox_client: SandboxClientFactory
):
    client, controlled = sandbox_client(minlog.create_app(population), "minlog")
    birthe = record(id="rec-3", patient_cpr=BIRTHE, at=AT + timedelta(hours=1))

    await MinLogSink(client).send([DOCTOR_READS_HANS, HANS_READS_OWN, birthe])

    assert [(r.method, r.path) for r in controlled.recorder.requests] == [("POST", "/fhir")], "one batch request"
    hans_log = await search(client, patient=HANS)
    assert [e["meta"]["tag"][0]["code"] for e in hans_log] == ["rec-2", "rec-1"]
    citizen, doctor = hans_log
    assert requestor(citizen)["who"]["identifier"] == {"system": CPR_SYSTEM, "value": HANS}
    assert requestor(doctor)["who"]["identifier"] == {"system": AUTHORIZATION_SYSTEM, "value": "CBDJ6"}
    assert requestor(doctor)["name"] == "læge"
    assert (SOR_SYSTEM, NEPHROLOGY_SOR) in identifiers(doctor)
    assert (CLIENT_SYSTEM, "sundhed-app") in identifiers(citizen)
    assert doctor["recorded"] == "2026-11-21T09:15:00+00:00"
    assert doctor["source"]["observer"]["identifier"]["value"] == "patientoverblik"
    assert [p["coding"][0]["code"] for p in doctor["purposeOfEvent"]] == ["TREAT"]
    by_identifier = await search(client, **{"entity-identifier": f"{CPR_SYSTEM}|{BIRTHE}"})
    assert [e["meta"]["tag"][0]["code"] for e in by_identifier] == ["rec-3"]


async def test_an_override_arrives_with_btg_and_its_ground_and_reason(
    population: Population, sandbox_client: SandboxClientFactory
):
    client, _ = sandbox_client(minlog.create_app(population), "minlog")
    override = record(override_ground="NOT_CONTACTABLE", override_reason="Bevidstløs ved indlæggelse")

    await MinLogSink(client).send([override])

    (event,) = await search(client, patient=HANS)
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "BTG"
    assert requestor(event)["purposeOfUse"][0]["coding"][0]["code"] == "BTG"
    (extension,) = [e for e in event["extension"] if e["url"].endswith("/consent-override")]
    assert extension["extension"] == [
        {"url": "ground", "valueCode": "NOT_CONTACTABLE"},
        {"url": "reason", "valueString": "Bevidstløs ved indlæggelse"},
    ]


async def test_a_resent_record_is_stored_once(population: Population, sandbox_client: SandboxClientFactory):
    app = minlog.create_app(population)
    client, _ = sandbox_client(app, "minlog")
    sink = MinLogSink(client)

    await sink.send([DOCTOR_READS_HANS])
    await sink.send([DOCTOR_READS_HANS, HANS_READS_OWN])

    assert [e["meta"]["tag"][0]["code"] for e in app.state.events] == ["rec-1", "rec-2"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://minlog") as http:
        again = (await http.post("/fhir", json=batch_bundle([DOCTOR_READS_HANS]))).json()
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"]
    assert len(app.state.events) == 2


async def test_an_entry_the_log_refuses_comes_back_refused_and_the_others_are_stored(
    population: Population, sandbox_client: SandboxClientFactory
):
    app = minlog.create_app(population)
    client, _ = sandbox_client(app, "minlog")
    unreadable = record(id="rec-9", patient_cpr="unknown")

    refusals = await MinLogSink(client).send([DOCTOR_READS_HANS, unreadable])

    assert [(r.record_id, r.reason) for r in refusals] == [
        ("rec-9", "Min Log refused the entry (status 400, issue invalid)")
    ]
    assert [e["meta"]["tag"][0]["code"] for e in app.state.events] == ["rec-1"], "the batch stored the valid one"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("500 Internal Server Error", SourceUnavailable),
        ("429 Too Many Requests", SourceUnavailable),
        ("408 Request Timeout", SourceUnavailable),
        ("nope", SourceResponseInvalid),
    ],
)
async def test_a_transient_or_unreadable_entry_in_the_batch_response_raises(
    status: str, error: type[Exception], mock_client: MockClientFactory
):
    entries = [{"response": {"status": "201 Created"}}, {"response": {"status": status}}]
    answer = {"resourceType": "Bundle", "type": "batch-response", "entry": entries}
    client = mock_client(lambda _: httpx.Response(200, json=answer), "minlog")

    with pytest.raises(error):
        await MinLogSink(client).send([DOCTOR_READS_HANS, HANS_READS_OWN])


@pytest.mark.parametrize("status", ["400 Bad Request", "404 Not Found", "422 Unprocessable Entity"])
async def test_a_refused_entry_names_its_status_and_never_the_logs_text(status: str, mock_client: MockClientFactory):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"code": "Value 1403723705", "diagnostics": HANS}]}
    entries = [{"response": {"status": "201 Created"}}, {"response": {"status": status, "outcome": outcome}}]
    answer = {"resourceType": "Bundle", "type": "batch-response", "entry": entries}
    client = mock_client(lambda _: httpx.Response(200, json=answer), "minlog")

    (refusal,) = await MinLogSink(client).send([DOCTOR_READS_HANS, HANS_READS_OWN])

    assert refusal == SinkRefusal("rec-2", f"Min Log refused the entry (status {status[:3]})")


async def test_a_batch_refused_as_a_whole_is_split_until_the_refused_record_is_found(mock_client: MockClientFactory):
    poison = record(id="rec-poison")
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tags = [e["resource"]["meta"]["tag"][0]["code"] for e in json.loads(request.content)["entry"]]
        batches.append(tags)
        if "rec-poison" in tags:
            return httpx.Response(400, json={"resourceType": "OperationOutcome"})
        created = [{"response": {"status": "201 Created"}} for _ in tags]
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "batch-response", "entry": created})

    client = mock_client(handler, "minlog")
    others = [record(id=f"rec-{n}") for n in range(5)]

    refusals = await MinLogSink(client).send([*others[:3], poison, *others[3:]])

    assert [r.record_id for r in refusals] == ["rec-poison"]
    stored = [tag for tags in batches if "rec-poison" not in tags for tag in tags]
    assert sorted(stored) == sorted(r.id for r in others)
    assert len(batches) <= 1 + 2 * 3, "a halving search, not one request per record"


def test_a_record_the_mapping_cannot_express_is_refused_before_anything_is_sent():
    with pytest.raises(UnmappableRecord):
        audit_event(record(id="rec 1|x"))


async def test_an_unmappable_record_comes_back_refused_and_the_others_go(mock_client: MockClientFactory):
    created = {"resourceType": "Bundle", "type": "batch-response", "entry": [{"response": {"status": "201 Created"}}]}
    client = mock_client(lambda _: httpx.Response(200, json=created), "minlog")

    refusals = await MinLogSink(client).send([record(id="rec 1|x"), DOCTOR_READS_HANS])

    assert refusals == [
        SinkRefusal("rec 1|x", "not mappable to an AuditEvent (the record id cannot be an AuditEvent tag)")
    ]


async def test_a_record_whose_text_cannot_be_utf8_comes_back_refused_and_the_batch_goes_as_one_body(
    mock_client: MockClientFactory,
):
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        entries = json.loads(request.content)["entry"]
        created = [{"response": {"status": "201 Created"}} for _ in entries]
        return httpx.Response(200, json={"resourceType": "Bundle", "type": "batch-response", "entry": created})

    client = mock_client(handler, "minlog")
    lone_surrogate = record(id="rec-odd", actor_name="Mette \ud800 Larsen")

    refusals = await MinLogSink(client).send([DOCTOR_READS_HANS, lone_surrogate, HANS_READS_OWN])

    assert [r.record_id for r in refusals] == ["rec-odd"]
    (body,) = bodies
    sent = json.loads(body)
    assert sent == batch_bundle([DOCTOR_READS_HANS, HANS_READS_OWN])
    assert body == json.dumps(sent, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def test_a_batch_response_missing_entries_is_invalid(mock_client: MockClientFactory):
    answer = {"resourceType": "Bundle", "type": "batch-response", "entry": [{"response": {"status": "201 Created"}}]}
    client = mock_client(lambda _: httpx.Response(200, json=answer), "minlog")

    with pytest.raises(SourceResponseInvalid):
        await MinLogSink(client).send([DOCTOR_READS_HANS, HANS_READS_OWN])


async def test_an_unavailable_log_raises_source_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda _: httpx.Response(503, json={"error": "down"}), "minlog")

    with pytest.raises(SourceUnavailable):
        await MinLogSink(client).send([DOCTOR_READS_HANS])


async def test_nothing_to_send_sends_no_request(mock_client: MockClientFactory):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    client = mock_client(handler, "minlog")

    await MinLogSink(client).send([])

    assert calls == []


async def test_records_left_pending_by_an_outage_reach_the_log_once(
    population: Population, sandbox_client: SandboxClientFactory
):
    app = minlog.create_app(population)
    client, controlled = sandbox_client(app, "minlog")
    log = _PendingLog([DOCTOR_READS_HANS, HANS_READS_OWN, record(id="rec-3")])
    controlled.faults.mode = "down"

    with pytest.raises(ExportFailed) as stopped:
        await export_pending(log, MinLogSink(client), batch_size=2)
    assert isinstance(stopped.value.cause, SourceUnavailable)
    controlled.faults.mode = "ok"
    report = await export_pending(log, MinLogSink(client), batch_size=2)

    assert (report.sent, report.set_aside) == (3, 0)
    assert sorted(e["meta"]["tag"][0]["code"] for e in app.state.events) == ["rec-1", "rec-2", "rec-3"]


def test_an_assistant_is_logged_with_the_responsible_professional():
    assistant = record(actor_kind="assistant", actor_id="medhjaelp-17", acting_for_id="CBDJ6", profession=None)

    event = audit_event(assistant)

    assert requestor(event)["who"]["identifier"] == {"system": USER_ID_SYSTEM, "value": "medhjaelp-17"}
    (responsible,) = [a for a in event["agent"] if a.get("type", {}).get("coding", [{}])[0].get("code") == "RESP"]
    assert responsible["who"]["identifier"] == {"system": AUTHORIZATION_SYSTEM, "value": "CBDJ6"}
    assert responsible["requestor"] is False


def test_a_parent_is_identified_by_cpr_and_the_child_is_the_patient():
    parent = record(actor_kind="parent", actor_id=MOTHER, patient_cpr=CHILD, organisation_sor=None, profession=None)

    event = audit_event(parent)

    assert requestor(event)["who"]["identifier"] == {"system": CPR_SYSTEM, "value": MOTHER}
    assert requestor(event)["role"][0]["coding"][0]["code"] == "PRN"
    assert event["entity"][0]["what"]["identifier"] == {"system": CPR_SYSTEM, "value": CHILD}
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "PWATRNY"


def test_everything_denied_is_a_failed_access_and_each_category_says_why():
    denied = record(returned=(), denied=("appointments",), withheld=("plans",), requested=("appointments", "plans"))

    event = audit_event(denied)

    assert event["outcome"] == "4"
    outcomes = {e["type"]["code"]: [d["valueString"] for d in e["detail"]] for e in event["entity"][1:]}
    assert outcomes == {"appointments": ["denied"], "plans": ["withheld"]}
    assert HANS not in event["outcomeDesc"]


def test_a_write_is_an_update_and_a_partial_read_still_succeeds():
    write = audit_event(record(activity="write", requested=("master_card_edit",), returned=("master_card_edit",)))
    read = audit_event(DOCTOR_READS_HANS)

    assert (write["action"], write["subtype"][0]["code"], write["outcome"]) == ("U", "update", "0")
    assert (read["action"], read["subtype"][0]["code"], read["outcome"]) == ("R", "read", "0")
    appointments = next(e for e in read["entity"] if e["type"].get("code") == "appointments")
    assert [d["valueString"] for d in appointments["detail"]] == ["returned", "withheld"]


def test_a_record_breaking_its_contract_cannot_be_made():
    with pytest.raises(ValueError, match="timezone"):
        dataclasses.replace(DOCTOR_READS_HANS, at=datetime(2026, 11, 21, 9, 15))
    with pytest.raises(TypeError, match="activity"):
        dataclasses.replace(DOCTOR_READS_HANS, activity="delete")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="actor_kind"):
        dataclasses.replace(DOCTOR_READS_HANS, actor_kind="anonymous")  # type: ignore[arg-type]


class _PendingLog:
    """An in-memory access log that remembers which records were exported."""

    def __init__(self, records: list[AccessRecord]) -> None:
        self.records = records
        self.exported: set[str] = set()

    async def pending_export(self, limit: int, opened_before: datetime | None = None) -> Sequence[PendingRecord]:
        return [r for r in self.records if r.id not in self.exported][:limit]

    async def mark_exported(self, ids: Any, at: datetime) -> None:
        self.exported.update(ids)

    async def set_aside(self, reasons: Any, at: datetime) -> None:
        self.exported.update(reasons)
