"""The WebSocket edge refuses what it must with the protocol's close codes or coded errors, and keeps serving.

graphql-transport-ws (github.com/enisdenjo/graphql-ws, PROTOCOL.md) and RFC 6455 name the closes: 4400
a malformed message, 4401 a subscribe before the connection is acknowledged, 4403 a connection without a
verifiable token, 4406 another subprotocol, 4408 no connection_init in time, 4409 an id already running,
4429 a second connection_init, 1009 a message too big. Limits on subscriptions are coded ``error``
messages; the connection stays. After every refusal the gateway still serves a new connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS
from tests.e2e.test_subscriptions_ws import WATCH, served_gateway, watching
from tests.e2e.ws import Client, Served

MAX_BYTES = 4096


@pytest.fixture
async def served(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Served]:
    async for running in served_gateway(
        sandbox,
        tmp_path,
        max_per_connection=2,
        max_per_caller=3,
        max_message_bytes=MAX_BYTES,
        connection_init_timeout_s=0.5,
        poll_interval_s=30.0,
    ):
        yield running


async def still_serves(served: Served) -> None:
    """A new connection is acknowledged and runs a subscription."""
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS))
        await client.send({"id": "1", "type": "complete"})
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}


def subscribe(payload: Any, operation_id: Any = "1") -> dict[str, Any]:
    return {"id": operation_id, "type": "subscribe", "payload": payload}


MALFORMED: dict[str, object] = {
    "binary": b"\x00\x01",
    "not JSON": "{",
    "an array": "[]",
    "a string": '"subscribe"',
    "no type": {"id": "1"},
    "a type that is no string": {"type": 5},
    "an unknown type": {"type": "start", "id": "1"},
    "a long unknown type": {"type": "x" * 1000},
    "a payload that is no object": subscribe([]),
    "an id that is no string": subscribe({"query": WATCH}, 5),
    "an empty id": subscribe({"query": WATCH}, ""),
    "a long id": subscribe({"query": WATCH}, "x" * 200),
    "a query that is no string": subscribe({"query": 5}),
    "variables that are no object": subscribe({"query": WATCH, "variables": "x"}),
    "an operation name that is no string": subscribe({"query": WATCH, "operationName": ["x"]}),
    "a ping payload that is no object": {"type": "ping", "payload": 5},
    "NaN": '{"type": "ping", "payload": {"x": NaN}}',
    "deep nesting": '{"type": "ping", "payload": ' + "[" * 40 + "]" * 40 + "}",
    "a huge number": '{"type": "ping", "payload": {"x": ' + "9" * 100 + "}}",
}


@pytest.mark.parametrize("message", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_message_closes_with_4400(served: Served, message: object) -> None:
    async with served.connect() as client:
        assert await client.init(served.professional(DOCTOR_WITH_RELATIONS)) == {"type": "connection_ack"}
        await client.send(message)
        code, reason = await client.closed()
    assert code == 4400
    assert len(reason.encode()) <= 123
    await still_serves(served)


async def test_a_message_over_the_limit_closes_with_1009(served: Served) -> None:
    async with served.connect() as client:
        await client.send(json.dumps({"type": "ping", "payload": {"x": "y" * MAX_BYTES}}))
        code, _ = await client.closed()
    assert code == 1009
    await still_serves(served)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (None, "connection_init's payload must carry Authorization: Bearer <token>"),
        ({}, "connection_init's payload must carry Authorization: Bearer <token>"),
        ({"Authorization": "Basic x"}, "the Authorization header must be 'Bearer <token>'"),
        ({"Authorization": "Bearer not-a-token"}, "token is malformed"),
        ({"Authorization": 5}, "connection_init's payload must carry Authorization: Bearer <token>"),
    ],
)
async def test_a_connection_without_a_verifiable_token_closes_with_4403_unauthenticated(
    served: Served, payload: object, why: str
) -> None:
    async with served.connect() as client:
        await client.send({"type": "connection_init", "payload": payload})
        code, reason = await client.closed()
    assert (code, reason) == (4403, f"UNAUTHENTICATED: {why}")
    await still_serves(served)


async def test_an_expired_token_at_connection_init_closes_with_4403(served: Served) -> None:
    expired = served.professional(DOCTOR_WITH_RELATIONS, expires_in=-120)
    async with served.connect() as client:
        await client.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {expired}"}})
        code, reason = await client.closed()
    assert (code, reason) == (4403, "UNAUTHENTICATED: token has expired")


async def test_protocol_order_is_kept_with_its_close_codes(served: Served) -> None:
    token = served.professional(DOCTOR_WITH_RELATIONS)
    async with served.connect() as early:
        await early.subscribe("1", WATCH, cpr=HANS)
        assert (await early.closed())[0] == 4401
    async with served.connect() as twice:
        await twice.init(token)
        await twice.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await twice.closed())[0] == 4429
    async with served.connect() as duplicate:
        await watching(duplicate, token)
        await duplicate.subscribe("1", WATCH, cpr=HANS)
        assert (await duplicate.closed())[0] == 4409
    async with served.connect() as silent:
        assert (await silent.closed())[0] == 4408
    async with served.connect(subprotocols=("graphql-ws",)) as legacy:
        assert (await legacy.closed())[0] == 4406
    await still_serves(served)


async def test_subscriptions_per_connection_and_per_caller_are_bounded_with_a_coded_error(served: Served) -> None:
    token = served.professional(DOCTOR_WITH_RELATIONS)
    async with served.connect() as first, served.connect() as second:
        await watching(first, token, operation_id="a")
        await first.subscribe("b", WATCH, cpr=HANS)
        await first.subscribe("c", WATCH, cpr=HANS)
        per_connection = await first.receive()
        await watching(second, token, operation_id="d")
        await second.subscribe("e", WATCH, cpr=HANS)
        per_caller = await second.receive()
        await first.send({"id": "a", "type": "complete"})
        await pending(first)  # the server has read the complete
        await second.subscribe("f", WATCH, cpr=HANS)
        await pending(second)  # "f" runs: no error came before the pong

    assert per_connection["id"] == "c" and per_connection["type"] == "error"
    assert [e["extensions"] for e in per_connection["payload"]] == [
        {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": "maxSubscriptionsPerConnection", "maximum": 2}
    ]
    assert per_caller["id"] == "e" and per_caller["type"] == "error"
    assert [e["extensions"] for e in per_caller["payload"]] == [
        {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": "maxSubscriptionsPerCaller", "maximum": 3}
    ]
    await still_serves(served)


async def test_only_subscriptions_run_over_the_websocket(served: Served) -> None:
    async with served.connect() as client:
        await watching(client, served.professional(DOCTOR_WITH_RELATIONS), operation_id="q")
        await client.send(subscribe({"query": "{ me { kind } }"}, "query"))
        refused = await client.receive()
        await client.send(subscribe({"query": "subscription { appointmentsChanged(cpr: 5) { complete } }"}, "bad"))
        invalid = await client.receive()
        await client.send(subscribe({"query": "subscription {"}, "syntax"))
        syntax = await client.receive()
    assert (refused["id"], refused["type"]) == ("query", "error")
    assert [e["extensions"]["code"] for e in refused["payload"]] == ["BAD_REQUEST"]
    assert (invalid["id"], invalid["type"]) == ("bad", "error")
    assert [e["extensions"]["code"] for e in invalid["payload"]] == ["BAD_USER_INPUT"]
    assert (syntax["id"], syntax["type"]) == ("syntax", "error")
    assert [e["extensions"]["code"] for e in syntax["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_subscription_sent_over_http_is_a_coded_bad_request(served: Served) -> None:
    body = await served.graphql(WATCH, served.professional(DOCTOR_WITH_RELATIONS), cpr=HANS)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]


async def pending(client: Client) -> None:
    """Nothing but a pong comes back for a ping: the client has no message waiting."""
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
TYPES = ["connection_init", "ping", "pong", "subscribe", "complete", "next", "error", "connection_ack", "start"]
MESSAGES = JSON | st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | JSON},
    optional={
        "id": st.text(max_size=4) | JSON,
        "payload": JSON | st.fixed_dictionaries({}, optional={"query": st.text(max_size=30) | JSON, "variables": JSON}),
    },
)
PROTOCOL_CLOSES = {4400, 4401, 4409, 4429}


class ErrorLines(logging.Handler):
    """Every log record at ERROR and above while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # each example is a real connection; no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(message=MESSAGES)
async def test_any_message_is_answered_or_closed_as_the_protocol_says_never_an_error(
    served: Served, message: object
) -> None:
    errors = ErrorLines()
    logging.getLogger().addHandler(errors)
    try:
        async with served.connect() as client:
            await watching(client, served.professional(DOCTOR_WITH_RELATIONS), operation_id="watching")
            await client.send(json.dumps(message))
            await client.send({"type": "ping"})
            try:
                while (answer := await client.receive())["type"] != "pong":
                    if answer["type"] == "error":
                        assert all("code" in e["extensions"] for e in answer["payload"])
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code in PROTOCOL_CLOSES, closed
    finally:
        logging.getLogger().removeHandler(errors)
    assert errors.records == []
