"""No error message repeats a value the caller sent to a subscription, over the WebSocket (graphql-transport-ws).

The same property as ``tests/e2e/test_error_echo_http.py``, for every place a subscription takes a
value (walked from the schema): the ``error`` message that refuses the subscription holds no sent
string, and every error in it carries a code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS
from tests.e2e.log_scan import CapturedLog
from tests.e2e.test_error_echo_http import (
    EVERY_POSITION,
    PROPERTY,
    assert_nothing_echoed,
    misfits,
    request_body,
    sent_strings,
)
from tests.e2e.test_subscriptions_ws import served_gateway
from tests.e2e.ws import Served

SUBSCRIBED = [p for p in EVERY_POSITION if p.reach.operation == "subscription"]


class Subscribing:
    """The served gateway, named briefly in Hypothesis's reports (it prints a dataclass field by field)."""

    def __init__(self, served: Served) -> None:
        self.served = served

    def __repr__(self) -> str:
        return "<gateway served over WebSocket>"


@pytest.fixture
async def subscribing(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Subscribing]:
    async for running in served_gateway(sandbox, tmp_path):
        yield Subscribing(running)


def test_the_schema_has_subscriptions_that_take_values() -> None:
    assert SUBSCRIBED, "the walk finds the subscription's arguments (else this property tries nothing)"


@PROPERTY
@given(case=misfits(SUBSCRIBED), form=st.sampled_from(["variable", "literal"]))
async def test_a_value_that_does_not_fit_a_subscription_is_never_repeated(
    subscribing: Subscribing, log_scan: CapturedLog, case: tuple[Any, Any], form: str
) -> None:
    served, (position, value) = subscribing.served, case
    body = request_body(position, value, form)
    seen = len(log_scan.lines)

    async with served.connect() as client:
        assert (await client.init(served.citizen(HANS)))["type"] == "connection_ack"
        await client.send({"id": "1", "type": "subscribe", "payload": body})
        refused = await client.receive()

    assert refused["type"] == "error", refused
    assert_nothing_echoed({"errors": refused["payload"]}, sent_strings(value), log_scan.lines[seen:])
