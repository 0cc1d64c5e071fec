"""One slow or broken source gives partial data plus a coded error, never a failed request."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from auth.access_log import SqliteAccessLog
from gateway.settings import SourceSettings
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, OVERVIEW, Gateway, error_codes, settings_for, start_gateway


async def test_a_source_down_gives_partial_data_with_its_code_and_name(gateway: Gateway) -> None:
    gateway.sandbox.control("stamkort").faults.update({"mode": "down"})

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    patient = body["data"]["patient"]
    assert patient["masterCard"] is None
    assert patient["person"]["name"] == "Hans Test Jensen"
    assert patient["generalPractitioner"]["name"] == "Lægerne Hasseris Bymidte"
    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "stamkort")]
    assert body["errors"][0]["path"] == ["patient", "masterCard"]


async def test_a_malformed_upstream_payload_gives_source_invalid_response(gateway: Gateway) -> None:
    gateway.sandbox.control("cpr").faults.update({"mode": "garbage"})

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert body["data"]["patient"]["person"] is None
    assert body["data"]["patient"]["masterCard"]["phone"] == "61234567"
    assert error_codes(body) == [("SOURCE_INVALID_RESPONSE", "cpr")]


async def test_a_body_that_is_not_json_gives_source_invalid_response(gateway: Gateway) -> None:
    gateway.sandbox.control("registers").faults.update({"mode": "not_json"})

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert body["data"]["patient"]["masterCard"]["registrations"] is None
    assert error_codes(body) == [("SOURCE_INVALID_RESPONSE", "registers")]


async def test_a_slow_source_gives_source_timeout_and_the_rest_of_the_overview(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    sandbox.control("yderregister").faults.update({"mode": "hang", "hang_s": 3.0})
    settings = settings_for(
        sandbox, tmp_path, yderregister=SourceSettings(base_url=sandbox.url("yderregister"), timeout_s=0.3, retries=0)
    )
    async for gateway in start_gateway(sandbox, settings, SqliteAccessLog(tmp_path / "a.db")):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    patient = body["data"]["patient"]
    assert patient["generalPractitioner"] is None
    assert patient["masterCard"]["healthInsuranceGroup"] is None
    assert patient["person"]["name"] == "Hans Test Jensen"
    assert set(error_codes(body)) == {("SOURCE_TIMEOUT", "yderregister")}


async def test_source_errors_carry_no_personal_data_to_the_client_or_the_log(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.sandbox.control("cpr").faults.update({"mode": "down"})
    caplog.set_level(logging.DEBUG)

    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "cpr")]
    assert HANS not in str(body["errors"])
    assert HANS not in caplog.text
    assert "service unavailable" not in str(body)  # the upstream's own text never passes


async def test_bad_cpr_is_bad_user_input_without_echoing_the_value(gateway: Gateway) -> None:
    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr="3213723705")

    assert error_codes(body) == [("BAD_USER_INPUT", None)]
    assert "3213723705" not in str(body)
