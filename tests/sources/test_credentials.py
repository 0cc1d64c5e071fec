"""OAuth2 client credentials per source: one token fetch for many calls, refreshed ahead of expiry, a new
one after a 401, never in an error, a log line or a repr. The token endpoint and the source are one mock
transport that counts what it received; time is the test clock (``sources.clock``), never waited for."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from sources.base import SourceClient, SourceConfig
from sources.credentials import ClientAuthMethod, ClientCredentials, TokenProvider
from sources.errors import SourceUnavailable
from tests.clock import Clock

SECRET = "s3cret:with&odd=chars"


class Upstream:
    """A token endpoint at ``/token`` and a source at every other path, counting requests to each."""

    def __init__(self) -> None:
        self.token_answer: dict[str, Any] = {"token_type": "Bearer", "expires_in": 300}
        self.token_status = 200
        self.token_requests: list[httpx.Request] = []
        self.source_auth: list[str | None] = []
        self.valid: set[str] = set()
        self.source_delay = asyncio.Event()
        self.source_delay.set()

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            self.token_requests.append(request)
            token = f"token-{len(self.token_requests)}"
            self.valid.add(token)
            return httpx.Response(self.token_status, json={"access_token": token, **self.token_answer})
        auth = request.headers.get("authorization")
        self.source_auth.append(auth)
        await self.source_delay.wait()
        if auth is None or auth.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"error": "invalid_token"})
        return httpx.Response(200, json={"ok": True})

    def client(
        self,
        method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC,
        *,
        retries: int = 0,
        scope: str | None = "cpr.read",
    ) -> SourceClient:
        transport = httpx.MockTransport(self.handler)
        token_config = SourceConfig("cpr.token", "http://sts.mock", retries=0)
        token_client = SourceClient(token_config, httpx.AsyncClient(transport=transport, base_url="http://sts.mock"))
        credentials = ClientCredentials("http://sts.mock/token", "gateway client", SECRET, scope, method, 60.0)
        provider = TokenProvider(token_client, "/token", credentials)
        config = SourceConfig("cpr", "http://cpr.mock", retries=retries)
        return SourceClient(
            config, httpx.AsyncClient(transport=transport, base_url="http://cpr.mock"), credentials=provider
        )


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


async def test_concurrent_calls_share_one_token_fetch(upstream: Upstream, clock: Clock) -> None:
    client = upstream.client()

    await asyncio.gather(*(client.get_json("/fhir/Patient") for _ in range(10)))
    await client.get_json("/fhir/Patient")

    assert len(upstream.token_requests) == 1
    assert upstream.source_auth == ["Bearer token-1"] * 11


@pytest.mark.parametrize("method", list(ClientAuthMethod))
async def test_the_token_request_authenticates_the_client_as_configured(
    upstream: Upstream, clock: Clock, method: ClientAuthMethod
) -> None:
    await upstream.client(method).get_json("/fhir/Patient")

    request = upstream.token_requests[0]
    form = dict(parse_qsl(request.content.decode()))
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "cpr.read"
    match method:
        case ClientAuthMethod.CLIENT_SECRET_BASIC:
            encoded = request.headers["authorization"].removeprefix("Basic ")
            # RFC 6749 §2.3.1: the id and the secret are form-encoded before Basic encoding.
            assert base64.b64decode(encoded).decode() == "gateway+client:s3cret%3Awith%26odd%3Dchars"
            assert "client_secret" not in form
        case ClientAuthMethod.CLIENT_SECRET_POST:
            assert (form["client_id"], form["client_secret"]) == ("gateway client", SECRET)
            assert "authorization" not in request.headers
        case ClientAuthMethod.TLS_CLIENT_AUTH:
            assert form["client_id"] == "gateway client"
            assert "client_secret" not in form
            assert "authorization" not in request.headers


async def test_a_token_near_its_expiry_is_refreshed_in_the_background(upstream: Upstream, clock: Clock) -> None:
    client = upstream.client()
    await client.get_json("/fhir/Patient")

    clock.now += 300 - 60 + 1  # inside the last minute of the token's life: refresh ahead
    await client.get_json("/fhir/Patient")
    assert upstream.source_auth[-1] == "Bearer token-1"  # the call did not wait for the new token
    await asyncio.sleep(0)  # the background fetch runs
    await client.get_json("/fhir/Patient")

    assert len(upstream.token_requests) == 2
    assert upstream.source_auth[-1] == "Bearer token-2"


async def test_an_expired_token_is_never_sent(upstream: Upstream, clock: Clock) -> None:
    client = upstream.client()
    await client.get_json("/fhir/Patient")

    clock.now += 300
    await client.get_json("/fhir/Patient")

    assert len(upstream.token_requests) == 2
    assert upstream.source_auth == ["Bearer token-1", "Bearer token-2"]


async def test_an_answer_without_expires_in_is_kept_five_minutes(upstream: Upstream, clock: Clock) -> None:
    del upstream.token_answer["expires_in"]
    client = upstream.client()
    await client.get_json("/fhir/Patient")

    clock.now += 200
    await client.get_json("/fhir/Patient")
    clock.now += 100
    await client.get_json("/fhir/Patient")

    assert len(upstream.token_requests) == 2


async def test_a_401_drops_the_token_and_the_retry_fetches_another(upstream: Upstream, clock: Clock) -> None:
    client = upstream.client(retries=1)
    await client.get_json("/fhir/Patient")
    upstream.valid.clear()  # the source forgot its tokens (restarted)

    assert await client.get_json("/fhir/Patient") == {"ok": True}
    assert upstream.source_auth == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        pytest.param(401, {"error": "invalid_client", "error_description": "who are you, Hans?"}, id="refused"),
        pytest.param(503, {}, id="down"),
        pytest.param(200, {"token_type": "mac", "expires_in": 300}, id="not_bearer"),
        pytest.param(200, {"token_type": "Bearer", "expires_in": "soon"}, id="bad_expiry"),
        pytest.param(200, {"token_type": "Bearer", "access_token": "has space"}, id="bad_token"),
    ],
)
async def test_no_token_is_the_sources_unavailability_and_nothing_is_sent_to_it(
    upstream: Upstream, clock: Clock, status: int, answer: dict[str, Any]
) -> None:
    upstream.token_status = status
    upstream.token_answer = answer
    client = upstream.client()

    with pytest.raises(SourceUnavailable) as caught:
        await client.get_json("/fhir/Patient")

    assert caught.value.source == "cpr"
    assert str(caught.value) == "source 'cpr' failed: no access token"
    assert upstream.source_auth == []


async def test_secrets_and_tokens_reach_no_log_line_and_no_repr(
    upstream: Upstream, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = upstream.client(retries=1)

    await client.get_json("/fhir/Patient")
    upstream.valid.clear()
    await client.get_json("/fhir/Patient")

    assert client.credentials is not None
    shown = caplog.text + repr(client.config) + repr(client.credentials) + repr(vars(client.credentials))
    for secret in (SECRET, "token-1", "token-2"):
        assert secret not in shown
