"""What every simulated source shares: a request recorder and fault knobs.

``controlled(app, name, faults)`` wraps a source's Starlette app. Every request to the source is
recorded (method, path, query), so tests can assert what the gateway did and did not fetch, and the
fault knobs apply before the source answers:

- ``latency_ms`` (+ ``jitter_ms``): delay every answer;
- ``error_rate``: share of requests answered ``503``;
- ``mode``: ``ok`` | ``down`` (503 always) | ``hang`` (sleep ``hang_s``, for timeouts) |
  ``garbage`` (200 with a body that is not the wire format) | ``not_json`` (200, not JSON);
- how the body is sent (:mod:`sandbox.shaping`): ``drip_ms`` (one byte every so many ms),
  ``pad_bytes`` (that many spaces after the body, for answers whose path starts with ``pad_path``),
  ``encoding`` (``identity`` | ``gzip`` | ``deflate``). ``Recorder.bytes_sent`` counts the body bytes
  that really left, so tests can tell how much of a huge answer the gateway read.

Knobs for what real FHIR servers do to a searchset ``Bundle`` (issue 10):

- ``outcome``, ``search_mode``, ``instants``, ``sor_form``, ``appointment_type``: how answers are
  spelt (:mod:`sandbox.rewrites`: an error ``OperationOutcome`` entry, odd entry modes, times in UTC or
  another offset, zero-padded SOR codes, mislabelled sectors);
- ``max_count``: caps a search's ``_count`` at this page size (a server capping at 10); 0 does not;
- ``next_link``: ``absolute`` (as the source writes it) | ``relative`` (relative to the FHIR base,
  ``Appointment?…``) | ``hapi`` (HAPI's ``[base]?_getpages=<id>&_getpagesoffset=<n>``, which this
  wrapper then serves; an unknown ``_getpages`` id is ``410``) | ``other_host`` (the same link on
  ``localhost`` instead of the address it was asked on) | ``dot_segments`` (``/fhir/.%2e/escaped?…``),
  ``encoded_slash`` (``/fhir/..%2Fescaped?…``), ``backslash`` (``/fhir/..\\escaped?…``): links that
  leave the FHIR base once a server decodes them (``/escaped`` is recorded like any request, so a
  test can tell that it was never asked).

``require_token`` (``true``/``false``): every request must carry a client-credentials token the
issuer's ``POST /oauth2/token`` gave (:mod:`sandbox.upstream_tokens`), else ``401``; as a national
service that takes OAuth2 tokens does.

The control routes live under ``/_sandbox/`` and are not recorded:
``GET /_sandbox/requests``, ``DELETE /_sandbox/requests`` (also zeroes ``bytes_sent``),
``GET /_sandbox/sent`` (``{"bytes": n}``), ``GET|PUT /_sandbox/faults``. Any other ``/_sandbox/``
route is the wrapped source's own (the issuer's ``/_sandbox/keys``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.rewrites import (
    APPOINTMENT_TYPES,
    INSTANTS,
    OUTCOMES,
    SEARCH_MODES,
    SOR_FORMS,
    rewrite_bundle,
    rewrite_document,
    rewrites,
)
from sandbox.shaping import ENCODINGS, Shaper
from sandbox.upstream_tokens import UpstreamTokens

MODES = ("ok", "down", "hang", "garbage", "not_json")
NEXT_LINKS = ("absolute", "relative", "hapi", "other_host", "dot_segments", "encoded_slash", "backslash")
ESCAPES = {"dot_segments": "/.%2e/escaped", "encoded_slash": "/..%2Fescaped", "backslash": "/..\\escaped"}
"""What the escaping ``next_link`` styles append to the FHIR base."""
FHIR_BASE = "/fhir"


@dataclass
class Faults:
    """The fault knobs of one simulated source."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    mode: str = "ok"
    hang_s: float = 30.0
    outcome: str = ""
    search_mode: str = "match"
    instants: str = "local"
    sor_form: str = "plain"
    appointment_type: str = "sor"
    max_count: int = 0
    next_link: str = "absolute"
    drip_ms: float = 0.0
    pad_bytes: int = 0
    pad_path: str = ""
    encoding: str = "identity"
    require_token: bool = False

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown fault knob {key!r}")
            if isinstance(getattr(self, key), bool):
                setattr(self, key, _flag(key, value))
                continue
            for knob, allowed in (
                ("mode", MODES),
                ("outcome", OUTCOMES),
                ("search_mode", SEARCH_MODES),
                ("instants", INSTANTS),
                ("sor_form", SOR_FORMS),
                ("appointment_type", APPOINTMENT_TYPES),
                ("next_link", NEXT_LINKS),
                ("encoding", ENCODINGS),
            ):
                if key == knob and value not in allowed:
                    raise ValueError(f"{knob} must be one of {allowed}")
            setattr(self, key, type(getattr(self, key))(value))

    @property
    def rewrites_bundles(self) -> bool:
        return rewrites(self) or self.next_link != "absolute"


@dataclass(frozen=True)
class RecordedRequest:
    """One request a simulated source received."""

    method: str
    path: str
    query: str
    body: str = ""


@dataclass
class Recorder:
    """The requests one source received, in order."""

    requests: list[RecordedRequest] = field(default_factory=list)
    bytes_sent: int = 0
    """Answer body bytes handed to the connection (after any encoding)."""

    def clear(self) -> None:
        self.requests.clear()
        self.bytes_sent = 0

    def count(self, sent: int) -> None:
        self.bytes_sent += sent

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


class Controlled:
    """ASGI wrapper applying :class:`Faults` and recording into a :class:`Recorder`."""

    def __init__(
        self,
        app: ASGIApp,
        name: str,
        faults: Faults | None = None,
        seed: int = 0,
        tokens: UpstreamTokens | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.faults = faults or Faults()
        self.tokens = tokens
        """The issuer's client-credentials tokens, checked when ``require_token`` is on."""
        self.recorder = Recorder()
        self._rng = random.Random(seed)
        self._pages: dict[str, str] = {}
        """HAPI-style paging: a ``_getpages`` id → the search (path and query) it continues."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox/"):
            await self._control(scope, receive, send)
            return
        body = await _read_body(receive)
        self.recorder.requests.append(
            RecordedRequest(
                scope["method"], path, scope.get("query_string", b"").decode(), body.decode(errors="replace")
            )
        )
        disconnected = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, disconnected))
        f = self.faults
        shaped: Send = Shaper(
            send,
            drip_ms=f.drip_ms,
            pad_bytes=f.pad_bytes if path.startswith(f.pad_path) else 0,
            encoding=f.encoding,
            disconnected=disconnected,
            count=self.recorder.count,
        )
        try:
            response = self._unauthorized(scope) or await self._fault()
            if response is None:
                scope, response = self._paging(scope)
            if response is not None:
                await response(scope, _replay(body), shaped)
                return
            if f.rewrites_bundles:
                shaped = _rewriting(shaped, scope, self._rewrite, lambda body: rewrite_document(body, self.faults))
            await self.app(scope, _replay(body), shaped)
        finally:
            watcher.cancel()

    def _paging(self, scope: Scope) -> tuple[Scope, Response | None]:
        """The request as the source sees it: ``_count`` capped, a HAPI ``_getpages`` turned back into its search."""
        query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
        getpages = scope["path"].rstrip("/") == FHIR_BASE and any(k == "_getpages" for k, _ in query)
        if not getpages and self.faults.max_count <= 0:
            return scope, None
        if getpages:
            values = dict(query)
            search = self._pages.get(values["_getpages"])
            if search is None:
                return scope, _outcome(410, "not-found", "the search has expired")
            path, _, rest = search.partition("?")
            query = [*parse_qsl(rest), ("_offset", values.get("_getpagesoffset", "0"))]
            if "_count" in values:
                query = [(k, v) for k, v in query if k != "_count"] + [("_count", values["_count"])]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        cap = self.faults.max_count
        if cap > 0:
            query = [(k, str(min(int(v), cap)) if k == "_count" and v.isdigit() else v) for k, v in query]
        return {**scope, "query_string": urlencode(query).encode()}, None

    def _rewrite(self, bundle: dict[str, Any], scope: Scope) -> None:
        """Make a searchset page look as the knobs say (:mod:`sandbox.rewrites`), its next link restyled."""
        rewrite_bundle(bundle, self.faults)
        for link in bundle.get("link", []):
            if link.get("relation") == "next" and isinstance(link.get("url"), str):
                link["url"] = self._next_link(link["url"], scope)

    def _next_link(self, url: str, scope: Scope) -> str:
        parts = urlsplit(url)
        style = self.faults.next_link
        if style == "relative":
            return parts.path.removeprefix(FHIR_BASE + "/") + (f"?{parts.query}" if parts.query else "")
        if style == "other_host":
            return urlunsplit((parts.scheme, f"localhost:{parts.port}", parts.path, parts.query, ""))
        if style in ESCAPES:
            return f"{FHIR_BASE}{ESCAPES[style]}?{parts.query}"
        query = parse_qsl(parts.query, keep_blank_values=True)
        offset = next((v for k, v in query if k == "_offset"), "0")
        count = next((v for k, v in query if k == "_count"), None)
        search = f"{parts.path}?{urlencode([(k, v) for k, v in query if k not in ('_offset', '_count')])}"
        page_id = hashlib.sha256(search.encode()).hexdigest()[:16]
        self._pages[page_id] = search
        paging = [("_getpages", page_id), ("_getpagesoffset", offset), *([("_count", count)] if count else [])]
        base = urlunsplit((parts.scheme, parts.netloc, FHIR_BASE, "", ""))
        return f"{base}?{urlencode([*paging, ('_bundletype', 'searchset')])}"

    def _unauthorized(self, scope: Scope) -> Response | None:
        """401 when ``require_token`` is on and the request has no valid client-credentials token."""
        if not self.faults.require_token or (
            self.tokens is not None and self.tokens.valid(Headers(scope=scope).get("authorization"))
        ):
            return None
        headers = {"www-authenticate": 'Bearer error="invalid_token"'}
        return JSONResponse({"error": "invalid_token"}, status_code=401, headers=headers)

    async def _fault(self) -> Response | None:
        f = self.faults
        delay = f.latency_ms + (self._rng.uniform(0, f.jitter_ms) if f.jitter_ms else 0.0)
        if delay:
            await asyncio.sleep(delay / 1000)
        if f.mode == "hang":
            await asyncio.sleep(f.hang_s)
        if f.mode == "down" or (f.error_rate and self._rng.random() < f.error_rate):
            return JSONResponse({"error": "service unavailable"}, status_code=503)
        if f.mode == "garbage":
            return JSONResponse({"unexpected": [1, 2, 3], "resourceType": 42})
        if f.mode == "not_json":
            return Response("<html>oops</html>", media_type="text/html")
        return None

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        what = scope["path"].removeprefix("/_sandbox/")
        response: Response
        if what == "requests" and request.method == "GET":
            response = JSONResponse([asdict(r) for r in self.recorder.requests])
        elif what == "requests" and request.method == "DELETE":
            self.recorder.clear()
            response = Response(status_code=204)
        elif what == "sent" and request.method == "GET":
            response = JSONResponse({"bytes": self.recorder.bytes_sent})
        elif what == "faults" and request.method == "GET":
            response = JSONResponse(asdict(self.faults))
        elif what == "faults" and request.method == "PUT":
            try:
                self.faults.update(json.loads(await request.body()))
            except (ValueError, TypeError) as exc:
                response = JSONResponse({"error": str(exc)}, status_code=400)
            else:
                response = JSONResponse(asdict(self.faults))
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _flag(knob: str, value: Any) -> bool:
    """A boolean knob's value: a JSON boolean, or ``true``/``false``/``1``/``0`` (as ``--fault`` gives it)."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise ValueError(f"{knob} must be true or false")


def _outcome(status: int, code: str, text: str) -> Response:
    issue = {"severity": "error", "code": code, "diagnostics": text}
    return JSONResponse({"resourceType": "OperationOutcome", "issue": [issue]}, status_code=status)


def _rewriting(
    send: Send, scope: Scope, rewrite: Callable[[dict[str, Any], Scope], None], respell: Callable[[bytes], bytes]
) -> Send:
    """A ``send`` that holds an answer back, lets ``rewrite`` change a JSON Bundle and ``respell`` an XML
    document, and sends it on."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def rewritten(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict) and document.get("resourceType") == "Bundle":
            rewrite(document, scope)
            body = json.dumps(document).encode()
        elif document is None and body.lstrip().startswith(b"<"):
            body = respell(body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return rewritten


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _watch_disconnect(receive: Receive, disconnected: asyncio.Event) -> None:
    """Set ``disconnected`` when the client goes away (the server's next message says so)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    disconnected.set()


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
