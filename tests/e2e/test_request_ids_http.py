"""The gateway issues its own request id; a caller's ``X-Request-Id`` is kept beside it as a correlation id
(ADR 0024): two requests sending the same id get different request ids, and the access log tells them
apart by the gateway's id."""

from __future__ import annotations

from tests.e2e.conftest import HANS, OVERVIEW, Gateway


async def test_two_requests_with_the_same_id_get_their_own_ids_and_their_own_records(gateway: Gateway) -> None:
    token = gateway.citizen(HANS)
    sent = {"authorization": f"Bearer {token}", "x-request-id": "epj-call-00042"}
    body = {"query": OVERVIEW, "variables": {"cpr": HANS}}

    answers = [await gateway.client.post("/graphql", json=body, headers=sent) for _ in range(2)]

    ids = [answer.headers["x-request-id"] for answer in answers]
    assert len(set(ids)) == 2 and "epj-call-00042" not in ids
    assert [answer.headers["x-correlation-id"] for answer in answers] == ["epj-call-00042"] * 2
    records = await gateway.access_log.for_patient(HANS)
    assert sorted(record.request_id for record in records) == sorted(ids)


async def test_an_id_that_could_carry_personal_data_is_not_kept(gateway: Gateway) -> None:
    sent = {"x-request-id": f"req-{HANS}"}

    answer = await gateway.client.post("/graphql", json={"query": "{ __typename }"}, headers=sent)

    assert "x-correlation-id" not in answer.headers
    assert HANS not in answer.headers["x-request-id"]
