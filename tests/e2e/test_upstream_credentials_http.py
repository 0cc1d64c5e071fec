"""Sources that take OAuth2 client-credentials tokens (the sandbox's ``require_token`` knob): the gateway
fetches one token per source from the token endpoint, reuses it across requests, replaces a token the
source no longer takes within the request, and a source it has no credentials for fails alone, with its
code and name. Requests are counted at the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from gateway.settings import SourceSettings
from sandbox.server import ThreadedSandbox
from sandbox.upstream_tokens import CLIENTS
from tests.e2e.conftest import HANS, OVERVIEW, error_codes, gateway_with, recorded

CLIENT_ID, SECRET = next(iter(CLIENTS.items()))


def with_credentials(sandbox: ThreadedSandbox, name: str, **extra: Any) -> SourceSettings:
    return SourceSettings(
        base_url=sandbox.url(name),
        timeout_s=2.0,
        retries=1,
        oauth_token_url=sandbox.url("issuer") + "/oauth2/token",
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=SECRET,
        **extra,
    )


def token_fetches(sandbox: ThreadedSandbox) -> int:
    return sum(r.path == "/oauth2/token" for r in sandbox.control("issuer").recorder.requests)


async def test_one_token_serves_every_request_to_a_source_that_requires_it(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    for name in ("cpr", "stamkort"):
        sandbox.control(name).faults.update({"require_token": "true"})
    overrides = {name: with_credentials(sandbox, name) for name in ("cpr", "stamkort")}

    async for gateway in gateway_with(sandbox, tmp_path, **overrides):
        for _ in range(3):
            body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
            assert error_codes(body) == []
            assert body["data"]["patient"]["masterCard"]["phone"] == "61234567"

    assert token_fetches(sandbox) == 2  # one per source, for three requests
    assert recorded(sandbox, "stamkort") == 3


async def test_a_token_the_source_no_longer_takes_is_replaced_within_the_request(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    sandbox.control("stamkort").faults.update({"require_token": True})
    issuer = sandbox.sandbox.issuer
    assert issuer is not None

    async for gateway in gateway_with(sandbox, tmp_path, stamkort=with_credentials(sandbox, "stamkort")):
        await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
        issuer.upstream_tokens.revoke_all()  # the source forgot every token it gave
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert error_codes(body) == []
    assert token_fetches(sandbox) == 2
    assert recorded(sandbox, "stamkort") == 3  # the refused attempt, then the retry with the new token


async def test_a_source_the_gateway_has_no_token_for_fails_alone(sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    sandbox.control("stamkort").faults.update({"require_token": True})

    async for gateway in gateway_with(sandbox, tmp_path):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "stamkort")]
    assert body["data"]["patient"]["person"]["name"] == "Hans Test Jensen"
    assert token_fetches(sandbox) == 0


async def test_a_wrong_client_secret_fails_the_source_without_its_text(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    sandbox.control("stamkort").faults.update({"require_token": True})
    wrong = with_credentials(sandbox, "stamkort").model_copy(update={"oauth_client_secret": SecretStr("not-it")})

    async for gateway in gateway_with(sandbox, tmp_path, stamkort=wrong):
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "stamkort")]
    assert "invalid_client" not in str(body)
    assert recorded(sandbox, "stamkort") == 0  # nothing is sent without a token
