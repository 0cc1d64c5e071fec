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

The control routes live under ``/_sandbox/`` and are not recorded:
``GET /_sandbox/requests``, ``DELETE /_sandbox/requests`` (also zeroes ``bytes_sent``),
``GET /_sandbox/sent`` (``{"bytes": n}``), ``GET|PUT /_sandbox/faults``. Any other ``/_sandbox/``
route is the wrapped source's own (the issuer's ``/_sandbox/keys``).
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.shaping import ENCODINGS, Shaper

MODES = ("ok", "down", "hang", "garbage", "not_json")


@dataclass
class Faults:
    """The fault knobs of one simulated source."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    mode: str = "ok"
    hang_s: float = 30.0
    drip_ms: float = 0.0
    pad_bytes: int = 0
    pad_path: str = ""
    encoding: str = "identity"

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown fault knob {key!r}")
            if key == "mode" and value not in MODES:
                raise ValueError(f"mode must be one of {MODES}")
            if key == "encoding" and value not in ENCODINGS:
                raise ValueError(f"encoding must be one of {ENCODINGS}")
            setattr(self, key, type(getattr(self, key))(value))


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

    def __init__(self, app: ASGIApp, name: str, faults: Faults | None = None, seed: int = 0) -> None:
        self.app = app
        self.name = name
        self.faults = faults or Faults()
        self.recorder = Recorder()
        self._rng = random.Random(seed)

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
        shaped = Shaper(
            send,
            drip_ms=f.drip_ms,
            pad_bytes=f.pad_bytes if path.startswith(f.pad_path) else 0,
            encoding=f.encoding,
            disconnected=disconnected,
            count=self.recorder.count,
        )
        try:
            response = await self._fault()
            if response is not None:
                await response(scope, _replay(body), shaped)
                return
            await self.app(scope, _replay(body), shaped)
        finally:
            watcher.cancel()

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
