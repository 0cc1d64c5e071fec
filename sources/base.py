"""The HTTP plumbing every adapter shares: one long-lived client, a total deadline, bounded bodies.

``SourceClient`` wraps an ``httpx.AsyncClient`` bound to one upstream. Every call (``get_json``,
``get_bytes``, ``send_json``) is bounded twice:

- **time**: ``SourceConfig.timeout_s`` is the *total* deadline of one call: connecting, sending,
  every read of the body and every retry together (``asyncio.timeout`` around the whole call, so it
  holds whatever the transport; httpx's own timeouts are per operation, so an upstream sending one
  byte every second would otherwise never time out). While a request is served, the call gets the
  shorter of that and its wave's share of the request's deadline, and does not start at all when that
  share is below the least time a call gets (:mod:`sources.deadline`, ADR 0024). A retry only runs
  when its wait and the least time of a call fit in the time left;
- **size**: the body is read as a stream (:func:`sources.bodies.read_body`) and refused as soon as it
  exceeds ``SourceConfig.max_body_bytes`` (or a smaller per-call ``max_bytes``), decoded or not.

Every httpx exception and every unusable answer becomes one of :mod:`sources.errors`, with
``from exc`` and without upstream text. Idempotent GETs are retried a bounded number of times on
connection errors and 5xx, after an exponential backoff with full jitter (tenacity's
``wait_random_exponential``), and only when the wait fits in the time left; writes are never
retried. A request whose kept-alive connection the server closed before answering is sent once more
by the transport when the call is a read (:data:`sources.transport.REPLAYABLE`): every GET, and a
POST or token request its caller declares ``replayable`` (a search); never a write.
Every request passes the source's circuit breaker (:mod:`sources.breaker`): an open breaker fails
the call at once with :class:`~sources.errors.SourceCircuitOpen`.

Every call runs inside :func:`sources.telemetry.observed_call` (one span, metric samples; no query
string, body or upstream text). A source with OAuth2 client credentials (:mod:`sources.credentials`)
sends the :class:`~sources.credentials.TokenProvider`'s current token with every request, fetched
within the call's deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from opentelemetry import propagate
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay, wait_random_exponential

from sources.bodies import ACCEPT_ENCODING, read_body
from sources.breaker import Breaker, BreakerPolicy
from sources.credentials import ClientCredentials, TlsFiles, TokenProvider
from sources.deadline import CallBudget, call_budget
from sources.errors import (
    SourceCircuitOpen,
    SourceError,
    SourceRejected,
    SourceResponseInvalid,
    SourceTimeout,
    SourceUnavailable,
    SourceVersionConflict,
)
from sources.telemetry import CallRecord, observed_call
from sources.transport import REPLAYABLE

JSON = Any
"""A decoded JSON document; adapters validate it before use."""


@dataclass(frozen=True, slots=True)
class EncodedJson:
    """A JSON request body encoded already (UTF-8): :meth:`SourceClient.send_json` sends it as it is."""

    content: bytes


_READ = httpx.ByteStream(b"")
"""The stream left on an answer once its body was read (:func:`_unbind`)."""

_ADDRESSED_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
"""Methods whose path names one resource, so a 404 means "no such record", not "no such endpoint"."""


KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BODY_BYTES = 1 * MIB
"""The default body limit: a lookup's JSON answer for a batch of patients is a few hundred KiB at most."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Where and how to reach one upstream."""

    name: str
    base_url: str
    timeout_s: float = 2.0
    """Total deadline of one call in seconds: connect, send, every read and every retry together."""
    retries: int = 1
    token: str | None = field(default=None, repr=False)
    """Static bearer credential sent to the upstream, when it needs one (or ``credentials``)."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """The largest answer body accepted, in bytes, after decoding any ``Content-Encoding``."""
    backoff_s: float = 0.05
    """Base of the exponential backoff before a retry: the n-th waits a random 0 to ``backoff_s * 2**(n-1)`` s."""
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    """When the source's circuit breaker opens and how long it stays open."""
    credentials: ClientCredentials | None = None
    """OAuth2 client credentials: a token fetched and refreshed per source (instead of ``token``)."""
    tls: TlsFiles | None = None
    """CA bundle and client certificate (mutual TLS) for the source and its token endpoint."""


def build_client(config: SourceConfig, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """Create the long-lived ``httpx.AsyncClient`` for one upstream over ``transport`` (its connection pool).

    The transport and its limits come from :mod:`sources.transport` (or a test's mock transport).
    """
    headers = {"accept": "application/fhir+json, application/json", "accept-encoding": ACCEPT_ENCODING}
    if config.token:
        headers["authorization"] = f"Bearer {config.token}"
    return httpx.AsyncClient(
        base_url=config.base_url,
        timeout=httpx.Timeout(config.timeout_s),
        headers=headers,
        transport=transport,
    )


@dataclass(frozen=True, slots=True)
class _Deadline:
    """The running deadline of one call, and the budget it was set from."""

    timeout: asyncio.Timeout
    budget: CallBudget

    def ran_out_on_its_own(self) -> bool:
        """The source's own deadline passed (not a shorter one the request's deadline set)."""
        return self.timeout.expired() and not self.budget.capped


@dataclass(frozen=True, slots=True)
class _Answer:
    """An upstream's status, headers and (bounded, decoded) body; the body is empty for errors."""

    status: int
    headers: httpx.Headers
    body: bytes


class SourceClient:
    """One upstream: its name, its client, its deadline and body limit, and the error translation."""

    def __init__(
        self, config: SourceConfig, client: httpx.AsyncClient, *, credentials: TokenProvider | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self._client = client
        self.breaker = Breaker(config.name, config.breaker)
        """This source's circuit breaker (its ``state`` is read for readiness)."""
        self.credentials = credentials
        """The source's OAuth2 token, when it has client credentials."""
        self._server = (client.base_url.host, client.base_url.port)
        self._base_path = client.base_url.raw_path.decode("ascii")

    async def aclose(self) -> None:
        """Close the underlying connection pool (and a running token fetch)."""
        if self.credentials is not None:
            await self.credentials.aclose()
        await self._client.aclose()

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        max_bytes: int | None = None,
    ) -> JSON:
        """GET ``path`` and return its decoded JSON body.

        The body may hold at most ``max_bytes`` (never more than the source's ``max_body_bytes``).
        Raises :class:`~sources.errors.SourceTimeout` past the deadline,
        :class:`~sources.errors.SourceUnavailable` for a failed connection or a 4xx/5xx (5xx and
        connection failures retried within the deadline), and
        :class:`~sources.errors.SourceResponseInvalid` for a body over the limit, badly encoded or
        not JSON.
        """
        async with self._observed("GET", path) as call:
            return self._decode(await self._get(call, path, params, None, max_bytes))

    async def get_bytes(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        accept: str | None = None,
        max_bytes: int | None = None,
    ) -> bytes:
        """GET ``path`` and return its raw body (a document); same deadline, limit and errors as ``get_json``."""
        async with self._observed("GET", path) as call:
            answer = await self._get(call, path, params, {"accept": accept} if accept else None, max_bytes)
            if answer.status >= 400:
                raise SourceUnavailable(self.name, f"status {answer.status}")
            return answer.body

    async def post_form(
        self,
        path: str,
        form: Mapping[str, str],
        *,
        headers: Mapping[str, str] | None = None,
        replayable: bool = False,
    ) -> JSON:
        """POST ``form`` as ``application/x-www-form-urlencoded`` (never retried); the decoded JSON answer.

        Same deadline, body limit and errors as ``get_json`` (any status of 400 or more is
        :class:`~sources.errors.SourceUnavailable`). Used for OAuth2 token requests. ``replayable``:
        the request changes nothing, so it may be sent again when its connection closed unanswered.
        """
        async with self._observed("POST", path) as call, self._deadline() as deadline:
            answer = await self._attempt(
                call,
                deadline,
                lambda auth: self._exchange(
                    "POST", path, headers={**(headers or {}), **auth}, form=form, replayable=replayable
                ),
            )
            return self._decode(answer)

    async def _get(
        self,
        call: CallRecord,
        path: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
    ) -> _Answer:
        """GET with bounded retries on connection errors and 5xx, backing off, all within the deadline.

        With client credentials a 401 is retried too, with a new token. The first attempt goes out
        at once; tenacity takes over only after a retryable failure (:meth:`_retry`)."""
        async with self._deadline() as deadline:
            try:
                return await self._get_once(call, deadline, path, params, headers, max_bytes)
            except SourceUnavailable as failure:
                if self.config.retries < 1 or not _retryable(failure):
                    raise
                first = failure
            return await self._retry(first, call, deadline, path, params, headers, max_bytes)

    async def _retry(
        self,
        first: SourceUnavailable,
        call: CallRecord,
        deadline: _Deadline,
        path: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
    ) -> _Answer:
        """The retries after the first attempt failed with ``first``, as tenacity schedules them.

        tenacity counts ``first`` as its first attempt (it is raised again there, nothing is sent), so
        the n-th retry waits a random 0 to ``backoff_s * 2**(n-1)`` and is made only when that wait and
        the least time of a call fit in what is left of the deadline.
        """
        budget = deadline.budget
        ends = deadline.timeout.when()
        left = budget.seconds if ends is None else ends - asyncio.get_running_loop().time()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(1 + self.config.retries) | stop_before_delay(left - budget.min_attempt_s),
            wait=wait_random_exponential(multiplier=self.config.backoff_s, max=budget.seconds),
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        failed: SourceUnavailable | None = first
        async for attempt in retrying:
            with attempt:
                if failed is not None:
                    error = failed
                    failed = None
                    raise error
                return await self._get_once(call, deadline, path, params, headers, max_bytes)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _get_once(
        self,
        call: CallRecord,
        deadline: _Deadline,
        path: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
    ) -> _Answer:
        """One GET; a 5xx (or a 401 to a client-credentials token) is :class:`~sources.errors.SourceUnavailable`."""
        answer = await self._attempt(
            call,
            deadline,
            lambda auth: self._exchange(
                "GET", path, params=params, headers={**(headers or {}), **auth}, max_bytes=max_bytes, replayable=True
            ),
        )
        if answer.status >= 500 or (answer.status == 401 and self.credentials is not None):
            # A 401 to a client-credentials token: it was dropped, the retry fetches another.
            raise SourceUnavailable(self.name, f"status {answer.status}")
        return answer

    async def send_json(
        self,
        method: str,
        path: str,
        body: JSON | EncodedJson = None,
        *,
        headers: Mapping[str, str] | None = None,
        replayable: bool = False,
    ) -> tuple[JSON, httpx.Headers]:
        """Send a request with a JSON body (never retried); return the decoded answer and its headers.

        ``replayable``: the caller declares the request a read (a search sent as POST), safe to send
        again when its kept-alive connection closed before any answer; a write never is, whatever its
        method (a replayed ``PUT`` with ``If-Match`` would read as a conflict, a ``POST`` create twice).

        ``body=None`` sends no body (``DELETE``); an :class:`EncodedJson` body is sent as it is, with
        ``Content-Type: application/json`` unless ``headers`` say otherwise. An empty answer (``204``, or
        no content) decodes as ``None``; callers that expect a resource validate it and report it invalid. Statuses:

        - 409, 412 → :class:`~sources.errors.SourceVersionConflict` (the record changed meanwhile);
        - 400, 422 → :class:`~sources.errors.SourceRejected` (the source refused what was sent);
        - 404 on a request naming one resource (``PUT``, ``PATCH``, ``DELETE``) →
          :class:`~sources.errors.SourceRejected` ("not found": no such record); on ``POST`` the
          endpoint itself is missing, so :class:`~sources.errors.SourceUnavailable`;
        - 428 (precondition required) → :class:`~sources.errors.SourceUnavailable`: the source wants a
          condition the adapter did not send, a contract mismatch the caller cannot fix;
        - any other 4xx or 5xx → :class:`~sources.errors.SourceUnavailable`.

        The deadline and the body limit are the same as for reads.
        """
        async with self._observed(method.upper(), path) as call:
            async with self._deadline() as deadline:
                answer = await self._attempt(
                    call,
                    deadline,
                    lambda auth: self._exchange(
                        method, path, json_body=body, headers={**(headers or {}), **auth}, replayable=replayable
                    ),
                )
            return self._answered(method, answer)

    def _answered(self, method: str, answer: _Answer) -> tuple[JSON, httpx.Headers]:
        """The decoded answer to a write, or the error its status means (see ``send_json``)."""
        status = answer.status
        if status in (409, 412):
            raise SourceVersionConflict(self.name, f"status {status}")
        if status in (400, 422):
            raise SourceRejected(self.name, f"status {status}")
        if status == 404 and method.upper() in _ADDRESSED_METHODS:
            raise SourceRejected(self.name, "not found")
        if status == 428:
            raise SourceUnavailable(self.name, "precondition required")
        if status < 400 and (status == 204 or not answer.body.strip()):
            return None, answer.headers
        return self._decode(answer), answer.headers

    @asynccontextmanager
    async def _deadline(self) -> AsyncIterator[_Deadline]:
        """The call's total deadline; running out is :class:`~sources.errors.SourceTimeout`.

        :class:`~sources.errors.SourceSkipped` when the request's deadline leaves no time for the call.
        """
        budget = call_budget(self.name, self.config.timeout_s)
        try:
            async with asyncio.timeout(budget.seconds) as timeout:
                yield _Deadline(timeout, budget)
        except TimeoutError as exc:
            raise SourceTimeout(self.name, "timed out") from exc

    def _observed(self, method: str, path: str) -> AbstractAsyncContextManager[CallRecord]:
        """The span and metrics of one call (:mod:`sources.telemetry`)."""
        return observed_call(self.name, method, path, self._server, lambda: self.breaker.state.value)

    async def _attempt(
        self,
        call: CallRecord,
        deadline: _Deadline,
        exchange: Callable[[Mapping[str, str]], Coroutine[Any, Any, _Answer]],
    ) -> _Answer:
        """One request (``exchange``, given the authorization headers) through the breaker, which learns how it went.

        A 5xx, a failed connection or the source's own deadline passing is a failure; any other answer a
        success. A call cut short by the request's deadline tells nothing about the source.
        With client credentials, the current access token is fetched first (a
        failure to get one is :class:`~sources.errors.SourceUnavailable` of this source, and does not
        count against its breaker) and dropped when the source answers 401.
        """
        call.attempt()
        token = await self._token()
        self.breaker.admit()
        try:
            answer = await exchange({"authorization": f"Bearer {token}"} if token is not None else {})
        except SourceUnavailable:
            self.breaker.failed()
            raise
        except asyncio.CancelledError:
            # Cancelled by the source's own deadline: it did not answer in time.
            self.breaker.failed() if deadline.ran_out_on_its_own() else self.breaker.released()
            raise
        except SourceResponseInvalid:
            self.breaker.succeeded()  # it answered; the adapter refused the body
            raise
        except BaseException:
            self.breaker.released()
            raise
        self.breaker.failed() if answer.status >= 500 else self.breaker.succeeded()
        call.status = answer.status
        if answer.status == 401 and token is not None and self.credentials is not None:
            self.credentials.rejected(token)
        return answer

    async def _token(self) -> str | None:
        if self.credentials is None:
            return None
        try:
            return await self.credentials.token()
        except SourceError as exc:
            raise SourceUnavailable(self.name, "no access token") from exc

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: JSON | EncodedJson = None,
        form: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        replayable: bool = False,
    ) -> _Answer:
        """One request; the body is read (bounded) only for a status below 400, which is all callers use.

        The span's trace context goes along (``traceparent``) when tracing is on.
        """
        limit = self.config.max_body_bytes if max_bytes is None else min(max_bytes, self.config.max_body_bytes)
        sent = dict(headers or {})
        encoded = isinstance(json_body, EncodedJson)
        if encoded and not any(name.lower() == "content-type" for name in sent):
            sent["content-type"] = "application/json"
        propagate.inject(sent)
        answered: httpx.Response | None = None
        try:
            target = self.url(path, params)
            async with self._client.stream(
                method, target, params=None if isinstance(target, httpx.URL) else params,
                headers=sent, json=None if encoded else json_body, data=form,
                content=json_body.content if isinstance(json_body, EncodedJson) else None,
                extensions={REPLAYABLE: True} if replayable else None,
            ) as response:  # fmt: skip
                answered = response
                body = b""
                if response.status_code < 400 and response.is_stream_consumed:
                    # A transport that hands over a body it read and decoded already (httpx.MockTransport).
                    body = await read_body(_once(response.content), encoding=None, limit=limit, invalid=self.invalid)
                elif response.status_code < 400:
                    body = await read_body(
                        response.aiter_raw(),
                        encoding=response.headers.get("content-encoding"),
                        declared_length=response.headers.get("content-length"),
                        limit=limit,
                        invalid=self.invalid,
                    )
                return _Answer(response.status_code, response.headers, body)
        except httpx.TimeoutException as exc:
            raise SourceTimeout(self.name, "timed out") from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(self.name, "connection failed") from exc
        finally:
            if answered is not None:
                _unbind(answered)

    def url(self, path: str, params: Mapping[str, str] | None = None) -> httpx.URL | str:
        """The URL a request for ``path`` with ``params`` goes to: the one httpx builds, parsed once.

        httpx parses a relative path, then the path joined to the client's base URL, then that again
        with the parameters: three parses of every URL (a fifth of a call's CPU). For a path under the
        base URL (``/fhir/Patient?identifier=...``, without a fragment or non-ASCII characters) this is
        the same URL from one parse, parameters (even an empty mapping) replacing its query as in httpx; any other
        ``path`` is returned as it is, for httpx to read.
        """
        if not path.startswith("/") or path.startswith("//") or "#" in path or not path.isascii():
            return path
        raw = self._base_path + path[1:]
        if params is not None:  # httpx: parameters, even none, replace the path's query
            raw = raw.partition("?")[0] + (f"?{httpx.QueryParams(params)}" if params else "")
        return self._client.base_url.copy_with(raw_path=raw.encode("ascii"))

    def _decode(self, answer: _Answer) -> JSON:
        if answer.status >= 400:
            raise SourceUnavailable(self.name, f"status {answer.status}")
        try:
            return json.loads(answer.body)
        except (ValueError, RecursionError) as exc:
            # ValueError covers malformed JSON, bad UTF-8 and integers longer than Python converts.
            raise SourceResponseInvalid(self.name, "body is not JSON") from exc

    def invalid(self, detail: str) -> SourceResponseInvalid:
        """An error saying this source's payload failed validation (``detail`` must hold no data)."""
        return SourceResponseInvalid(self.name, detail)


def _retryable(error: BaseException) -> bool:
    """A failed connection or a 5xx is retried; a timeout (the deadline is spent) or an open breaker is not."""
    return isinstance(error, SourceUnavailable) and not isinstance(error, SourceTimeout | SourceCircuitOpen)


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


def _unbind(response: httpx.Response) -> None:
    """Drop the stream of an answer that was closed (its body read or refused, its connection released).

    httpx binds the stream to the answer that holds it (``BoundAsyncStream``), a reference cycle that
    left every answer, its request and headers to the cyclic garbage collector (ADR 0027).
    """
    response.stream = _READ
