"""Contract tests for the Min Spærring adapter against the simulated consent service."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox import consent
from sandbox.personas import LUNG_CLINIC_SOR
from sandbox.population import Population, build_population
from sources.base import SourceClient, SourceConfig
from sources.consent import ConsentSource
from sources.errors import (
    SourceIncomplete,
    SourceRejected,
    SourceResponseInvalid,
    SourceTimeout,
    SourceUnavailable,
    SourceVersionConflict,
)
from sources.models import BlockKind, BlockRecord, PeriodRecord
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"


@pytest.fixture
def fresh_population() -> Population:
    """A population of our own: write tests add and remove blocks."""
    return build_population(seed=2016, patients=0)


def _bundle(*consents: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": c} for c in consents]}


def _consent(provision: dict[str, Any], cpr: str = HANS) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": "c-1",
        "status": "active",
        "patient": {"identifier": {"system": consent.CPR_SYSTEM, "value": cpr}},
        "provision": provision,
    }


async def test_blocks_doctor_has_one_professional_block_against_7qwrt(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(consent.create_app(population), "consent")
    cpr = population.personas["blocks_doctor"]

    blocks = (await ConsentSource(client).blocks_for([cpr]))[cpr]

    assert blocks == [
        BlockRecord(
            "block-1", cpr, BlockKind.PROFESSIONAL, validity=PeriodRecord(date(2024, 3, 1)), authorization_id="7QWRT"
        )
    ]


async def test_two_patients_in_one_request_every_cpr_present(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(consent.create_app(population), "consent")
    hans, blocked = population.personas["hans"], population.personas["blocks_doctor"]

    blocks = await ConsentSource(client).blocks_for([hans, blocked, hans, "0101010000"])

    assert blocks[hans] == []
    assert blocks["0101010000"] == []
    assert [b.authorization_id for b in blocks[blocked]] == ["7QWRT"]
    assert len(controlled.recorder.requests) == 1
    assert controlled.recorder.requests[0].path == "/fhir/Consent"
    assert "status=active" in controlled.recorder.requests[0].query


async def test_empty_input_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(consent.create_app(population), "consent")

    assert await ConsentSource(client).blocks_for([]) == {}
    assert controlled.recorder.requests == []


async def test_created_organisation_and_data_period_blocks_read_back(
    fresh_population, sandbox_client: SandboxClientFactory
):
    client, _ = sandbox_client(consent.create_app(fresh_population), "consent")
    source = ConsentSource(client)
    organisation = BlockRecord(
        "",
        HANS,
        BlockKind.ORGANISATION,
        validity=PeriodRecord(date(2025, 1, 1), date(2026, 12, 31)),
        organisation_sor=LUNG_CLINIC_SOR,
        include_subunits=True,
        data_period=PeriodRecord(date(2020, 1, 1), date(2021, 6, 30)),
    )
    period = BlockRecord("", HANS, BlockKind.DATA_PERIOD, data_period=PeriodRecord(end=date(2019, 12, 31)))

    existing = {b.id for b in fresh_population.blocks}

    stored = [await source.create_block(organisation), await source.create_block(period)]

    assert len({b.id for b in stored} | existing) == len(existing) + 2, "each new block gets a fresh id"
    assert stored == [
        dataclasses.replace(organisation, id=stored[0].id),
        dataclasses.replace(period, id=stored[1].id),
    ]
    assert (await source.blocks_for([HANS]))[HANS] == stored


async def test_sandbox_deletes_blocks_and_refuses_invalid_ones(fresh_population):
    app = consent.create_app(fresh_population)
    permit = _consent({"type": "permit", "dataPeriod": {"start": "2020-01-01"}})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://consent") as http:
        refused = await http.post("/fhir/Consent", json=permit)
        deleted = await http.delete("/fhir/Consent/block-1")
        again = await http.delete("/fhir/Consent/block-1")
        bad_search = await http.get("/fhir/Consent", params={"patient.identifier": "12345"})

    assert refused.status_code == 422
    assert deleted.status_code == 204
    assert again.status_code == 404
    assert bad_search.status_code == 400
    assert "block-1" not in {b.id for b in fresh_population.blocks}


async def test_invalid_block_is_rejected(fresh_population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(consent.create_app(fresh_population), "consent")
    unknown_patient = BlockRecord("", "0101010000", BlockKind.DATA_PERIOD, data_period=PeriodRecord(date(2020, 1, 1)))

    with pytest.raises(SourceRejected):
        await ConsentSource(client).create_block(unknown_patient)


@pytest.mark.parametrize(
    "provision",
    [
        {"type": "permit", "dataPeriod": {"start": "2020-01-01"}},
        {"type": "deny"},
        {"type": "deny", "actor": [{"reference": {"identifier": {"system": "urn:other", "value": "x"}}}]},
        {"type": "deny", "period": {"start": "not a date"}, "dataPeriod": {}},
    ],
    ids=["permit", "nothing-blocked", "unknown-actor", "bad-date"],
)
async def test_an_unrecognised_consent_is_an_unmatchable_block_of_its_patient_never_dropped(
    mock_client: MockClientFactory, provision
):
    other = "0101010000"
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(_consent(provision))), "consent")

    blocks = await ConsentSource(client).blocks_for([HANS, other])

    assert blocks == {HANS: [BlockRecord("c-1", HANS, BlockKind.PROFESSIONAL, unmatchable=True)], other: []}
    assert blocks[HANS][0].names_professional("CBDJ6")  # it applies to every professional


async def test_datetime_periods_and_inactive_consents(mock_client: MockClientFactory):
    active = _consent({"type": "deny", "dataPeriod": {"start": "2020-01-01T00:00:00+01:00"}})
    inactive = {**active, "id": "c-2", "status": "inactive"}
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(active, inactive)), "consent")

    blocks = await ConsentSource(client).blocks_for([HANS])

    assert blocks == {
        HANS: [BlockRecord("c-1", HANS, BlockKind.DATA_PERIOD, data_period=PeriodRecord(date(2020, 1, 1)))]
    }


async def test_server_error_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(500, json={"error": HANS}), "consent")

    with pytest.raises(SourceUnavailable) as caught:
        await ConsentSource(client).blocks_for([HANS])

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await ConsentSource(mock_client(hang, "consent")).blocks_for([HANS])


async def test_garbage_and_non_json_are_invalid(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(consent.create_app(population), "consent")
    source = ConsentSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.blocks_for([HANS])


async def test_revoked_block_is_gone_and_only_that_block(fresh_population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(consent.create_app(fresh_population), "consent")
    source = ConsentSource(client)
    period = BlockRecord("", HANS, BlockKind.DATA_PERIOD, data_period=PeriodRecord(date(2020, 1, 1), date(2020, 6, 30)))
    first, second = await source.create_block(period), await source.create_block(period)
    controlled.recorder.clear()

    await source.revoke_block(HANS, first.id)

    assert [(r.method, r.path) for r in controlled.recorder.requests] == [("DELETE", f"/fhir/Consent/{first.id}")]
    assert (await source.blocks_for([HANS]))[HANS] == [second]


async def test_revoking_an_unknown_block_is_rejected_not_unavailable(
    fresh_population, sandbox_client: SandboxClientFactory
):
    client, _ = sandbox_client(consent.create_app(fresh_population), "consent")

    with pytest.raises(SourceRejected) as caught:
        await ConsentSource(client).revoke_block(HANS, "block-999")

    assert not isinstance(caught.value, SourceVersionConflict)
    assert "block-999" not in str(caught.value)


@pytest.mark.parametrize(
    ("cpr", "block_id"),
    [(HANS, "../Patient/1"), (HANS, ""), (HANS, "x" * 65), ("140372-3705", "block-1")],
    ids=["path", "empty", "too-long", "bad-cpr"],
)
async def test_malformed_revoke_sends_nothing(population, sandbox_client: SandboxClientFactory, cpr, block_id):
    client, controlled = sandbox_client(consent.create_app(population), "consent")

    with pytest.raises(ValueError):
        await ConsentSource(client).revoke_block(cpr, block_id)

    assert controlled.recorder.requests == []


async def test_revoke_accepts_an_empty_200_as_done(mock_client: MockClientFactory):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(200, content=b"")

    await ConsentSource(mock_client(handler, "consent")).revoke_block(HANS, "c-1")

    assert seen == ["DELETE"]


async def test_revoke_when_the_service_is_down_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(503, json={"error": HANS}), "consent")

    with pytest.raises(SourceUnavailable) as caught:
        await ConsentSource(client).revoke_block(HANS, "c-1")

    assert not isinstance(caught.value, SourceRejected)


async def test_creating_at_a_missing_endpoint_is_unavailable_not_rejected(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(404, json={"resourceType": "OperationOutcome"}), "consent")
    block = BlockRecord("", HANS, BlockKind.DATA_PERIOD, data_period=PeriodRecord(date(2020, 1, 1)))

    with pytest.raises(SourceUnavailable):
        await ConsentSource(client).create_block(block)


async def test_a_created_block_answered_with_an_empty_body_is_invalid(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(201, content=b""), "consent")
    block = BlockRecord("", HANS, BlockKind.DATA_PERIOD, data_period=PeriodRecord(date(2020, 1, 1)))

    with pytest.raises(SourceResponseInvalid):
        await ConsentSource(client).create_block(block)


async def test_a_consent_with_an_id_that_is_not_a_fhir_id_is_an_unmatchable_block(mock_client: MockClientFactory):
    odd = {**_consent({"type": "deny", "dataPeriod": {"start": "2020-01-01"}}), "id": "a/b"}
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(odd)), "consent")

    blocks = await ConsentSource(client).blocks_for([HANS])

    assert blocks == {HANS: [BlockRecord("", HANS, BlockKind.PROFESSIONAL, unmatchable=True)]}


spacing = st.sampled_from(["", " ", "  ", "\t", "\u00a0"])


@settings(max_examples=40, deadline=None)
@given(spacing, spacing, st.sampled_from(["CBDJ6", "cbdj6", "Cbdj6"]), st.sampled_from(["", " ", "/"]))
async def test_a_block_on_an_authorisation_id_in_any_spacing_or_case_names_that_professional(
    before: str, after: str, written: str, system_end: str
):
    actor = {"identifier": {"system": f" https://autregweb.sst.dk{system_end}", "value": f"{before}{written}{after}"}}
    body = _bundle(_consent({"type": "deny", "actor": [{"reference": actor}]}))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport, base_url="http://consent.mock") as http:
        source = ConsentSource(SourceClient(SourceConfig("consent", "http://consent.mock"), http))
        [block] = (await source.blocks_for([HANS]))[HANS]

    assert (block.authorization_id, block.unmatchable) == ("CBDJ6", False)
    assert block.names_professional("CBDJ6") and block.names_professional(" cbdj6")
    assert not block.names_professional("7QWRT")


@pytest.mark.parametrize(
    "actor",
    [
        {"identifier": {"system": "https://autregweb.sst.dk", "value": "CB DJ6"}},
        {"identifier": {"system": "https://autregweb.sst.dk", "value": "CBDJ6\u200b"}},
        {"identifier": {"system": "urn:oid:1.2.208.176.1.99", "value": "CBDJ6"}},
        {"display": "Mette Test Larsen"},
    ],
    ids=["inner-space", "zero-width-space", "unknown-system", "no-identifier"],
)
async def test_a_professional_block_that_cannot_be_matched_with_certainty_names_every_professional(
    mock_client: MockClientFactory, actor: dict[str, Any]
):
    body = _bundle(_consent({"type": "deny", "actor": [{"reference": actor}]}))
    client = mock_client(lambda request: httpx.Response(200, json=body), "consent")

    [block] = (await ConsentSource(client).blocks_for([HANS]))[HANS]

    assert block.unmatchable and block.kind is BlockKind.PROFESSIONAL
    assert block.names_professional("CBDJ6") and block.names_professional("7QWRT")


async def test_an_organisation_block_with_a_sor_code_that_cannot_be_read_is_unmatchable(
    mock_client: MockClientFactory,
):
    actor = {"identifier": {"system": "urn:oid:1.2.208.176.1.1", "value": "OUH"}}
    body = _bundle(_consent({"type": "deny", "actor": [{"reference": actor}], "dataPeriod": {"start": "2019"}}))
    client = mock_client(lambda request: httpx.Response(200, json=body), "consent")

    [block] = (await ConsentSource(client).blocks_for([HANS]))[HANS]

    assert (block.kind, block.organisation_sor, block.unmatchable) == (BlockKind.ORGANISATION, None, True)
    assert block.data_period == PeriodRecord(date(2019, 1, 1))


async def test_a_consent_whose_patient_cannot_be_told_is_an_unmatchable_block_of_every_asked_patient(
    mock_client: MockClientFactory,
):
    other = "0101010000"
    nameless = {**_consent({"type": "deny"}), "patient": {"display": "?"}}
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(nameless)), "consent")

    blocks = await ConsentSource(client).blocks_for([HANS, other])

    assert {cpr: [b.unmatchable for b in found] for cpr, found in blocks.items()} == {HANS: [True], other: [True]}


async def test_a_data_period_of_years_is_the_years_and_a_utc_validity_end_does_not_lapse_a_day_early(
    mock_client: MockClientFactory,
):
    provision = {
        "type": "deny",
        "dataPeriod": {"start": "2019", "end": "2020"},
        "period": {"end": "2025-06-30T23:00:00Z"},
    }
    client = mock_client(lambda request: httpx.Response(200, json=_bundle(_consent(provision))), "consent")

    [block] = (await ConsentSource(client).blocks_for([HANS]))[HANS]

    assert block.data_period == PeriodRecord(date(2019, 1, 1), date(2020, 12, 31))
    assert block.validity.contains(date(2025, 7, 1))  # 01:00 on 1 July in Denmark


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 24 * 60 - 1))
async def test_a_validity_end_at_any_instant_of_a_danish_day_covers_that_day(day: date, minute: int):
    moment = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Copenhagen")) + timedelta(minutes=minute)
    written = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    body = _bundle(_consent({"type": "deny", "dataPeriod": {"start": "2019"}, "period": {"end": written}}))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport, base_url="http://consent.mock") as http:
        source = ConsentSource(SourceClient(SourceConfig("consent", "http://consent.mock"), http))
        [block] = (await source.blocks_for([HANS]))[HANS]

    assert block.validity.end == moment.astimezone(ZoneInfo("Europe/Copenhagen")).date()


async def test_a_partial_consent_answer_fails_closed_for_the_whole_batch(mock_client: MockClientFactory):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    body = {"resourceType": "Bundle", "entry": [{"resource": outcome, "search": {"mode": "outcome"}}]}
    client = mock_client(lambda request: httpx.Response(200, json=body), "consent")

    with pytest.raises(SourceIncomplete):
        await ConsentSource(client).blocks_for([HANS])
