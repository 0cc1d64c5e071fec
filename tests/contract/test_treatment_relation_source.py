"""Contract tests for the BRS treatment-relation adapter against the simulated BRS."""

from __future__ import annotations

import json

import httpx
import pytest

from sandbox import treatment_relation
from sandbox.personas import NEPHROLOGY_SOR, OUH_SOR
from sources.errors import SourceRejected, SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.models import RelationQuery
from sources.treatment_relation import TreatmentRelationSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"


async def test_cbdj6_has_a_relation_to_hans_and_x2p9k_has_none(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(treatment_relation.create_app(population), "brs")
    hans = population.personas["hans"]
    related = RelationQuery(hans, "CBDJ6", NEPHROLOGY_SOR)
    unrelated = RelationQuery(hans, "X2P9K", OUH_SOR)

    answers = await TreatmentRelationSource(client).relations_for([related, unrelated])

    assert answers[related].has_relation is True
    assert answers[related].kinds == ("LPR3",)
    assert answers[related].query == related
    assert answers[unrelated].has_relation is False
    assert answers[unrelated].kinds == ()
    assert len(controlled.recorder.requests) == 1


async def test_two_patients_in_one_request_in_order(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(treatment_relation.create_app(population), "brs")
    blocked = population.personas["blocks_doctor"]
    queries = [
        RelationQuery(population.personas["hans"], "CBDJ6", None),
        RelationQuery(blocked, "7QWRT", None),
        RelationQuery(blocked, "CBDJ6", None),
        RelationQuery(blocked, "7QWRT", None),
    ]

    answers = await TreatmentRelationSource(client).relations_for(queries)

    assert [answers[q].has_relation for q in queries] == [True, True, False, True]
    assert len(answers) == 3
    sent = json.loads(controlled.recorder.requests[0].body)
    assert len(sent["queries"]) == 3
    assert len(controlled.recorder.requests) == 1


async def test_gp_relation_is_of_kind_ssr(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(treatment_relation.create_app(population), "brs")
    query = RelationQuery(population.personas["hans"], "005ML", None)

    answers = await TreatmentRelationSource(client).relations_for([query])

    assert answers[query].has_relation is True
    assert answers[query].kinds == ("SSR",)


async def test_empty_input_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(treatment_relation.create_app(population), "brs")

    assert await TreatmentRelationSource(client).relations_for([]) == {}
    assert controlled.recorder.requests == []


async def test_sandbox_answers_400_for_a_malformed_body(population):
    app = treatment_relation.create_app(population)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://brs") as http:
        no_queries = await http.post("/brs/relations", json={"patient": HANS})
        bad_id = await http.post("/brs/relations", json={"queries": [{"patient": HANS, "authorizationId": "TOOLONG"}]})
        not_json = await http.post("/brs/relations", content=b"{")

    assert [r.status_code for r in (no_queries, bad_id, not_json)] == [400, 400, 400]


async def test_rejected_request_is_source_rejected(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(400, json={"error": HANS}), "brs")

    with pytest.raises(SourceRejected) as caught:
        await TreatmentRelationSource(client).relations_for([RelationQuery(HANS, "CBDJ6", None)])

    assert HANS not in str(caught.value)


async def test_server_error_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(500, json={"error": HANS}), "brs")

    with pytest.raises(SourceUnavailable) as caught:
        await TreatmentRelationSource(client).relations_for([RelationQuery(HANS, "CBDJ6", None)])

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await TreatmentRelationSource(mock_client(hang, "brs")).relations_for([RelationQuery(HANS, "CBDJ6", None)])


async def test_wrong_shape_is_invalid_without_cpr_in_message(mock_client: MockClientFactory):
    body = {"results": [{"patient": HANS, "authorizationId": "CBDJ6", "organisationSor": None, "hasRelation": "yes"}]}
    client = mock_client(lambda request: httpx.Response(200, json=body), "brs")

    with pytest.raises(SourceResponseInvalid) as caught:
        await TreatmentRelationSource(client).relations_for([RelationQuery(HANS, "CBDJ6", None)])

    assert HANS not in str(caught.value)
    assert HANS not in str(caught.value.__cause__)


async def test_answer_missing_a_query_is_invalid(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(200, json={"results": []}), "brs")

    with pytest.raises(SourceResponseInvalid):
        await TreatmentRelationSource(client).relations_for([RelationQuery(HANS, "CBDJ6", None)])


async def test_garbage_and_non_json_are_invalid(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(treatment_relation.create_app(population), "brs")
    source = TreatmentRelationSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.relations_for([RelationQuery(HANS, "CBDJ6", None)])
