"""The HTTP plumbing every adapter shares: one long-lived client, timeouts, error translation.

``SourceClient`` wraps an ``httpx.AsyncClient`` bound to one upstream. Its ``get_json`` and
``send_json`` map every httpx exception and every unusable answer into the :mod:`sources.errors`
tree, with ``from exc`` and without upstream text. Idempotent GETs are retried a bounded number of
times on connection errors and 5xx; writes are never retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from sources.errors import (
    SourceRejected,
    SourceResponseInvalid,
    SourceTimeout,
    SourceUnavailable,
    SourceVersionConflict,
)

JSON = Any
"""A decoded JSON document; adapters validate it before use."""

_ADDRESSED_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
"""Methods whose path names one resource, so a 404 means "no such record", not "no such endpoint"."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Where and how to reach one upstream."""

    name: str
    base_url: str
    timeout_s: float = 2.0
    retries: int = 1
    token: str | None = None
    """Bearer credential sent to the upstream, when it needs one."""


def build_client(config: SourceConfig, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """Create the long-lived ``httpx.AsyncClient`` for one upstream."""
    headers = {"accept": "application/fhir+json, application/json"}
    if config.token:
        headers["authorization"] = f"Bearer {config.token}"
    return httpx.AsyncClient(
        base_url=config.base_url,
        timeout=httpx.Timeout(config.timeout_s),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        headers=headers,
        transport=transport,
    )


class SourceClient:
    """One upstream: its name, its client and the error translation."""

    def __init__(self, config: SourceConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.name = config.name
        self._client = client

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self._client.aclose()

    async def get_json(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
    ) -> JSON:
        """GET ``path`` and return its decoded JSON body."""
        return self._decode(await self._get(path, params))

    async def get_bytes(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        accept: str | None = None,
    ) -> bytes:
        """GET ``path`` and return its raw body (a document); same retries and errors as ``get_json``."""
        response = await self._get(path, params, {"accept": accept} if accept else None)
        if response.status_code >= 400:
            raise SourceUnavailable(self.name, f"status {response.status_code}")
        return response.content

    async def _get(
        self, path: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """GET with bounded retries on connection errors and 5xx; any other answer is returned."""
        attempts = 1 + max(0, self.config.retries)
        last: SourceUnavailable | None = None
        for _ in range(attempts):
            try:
                response = await self._client.get(path, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise SourceTimeout(self.name, "timed out") from exc
            except httpx.HTTPError as exc:
                last = SourceUnavailable(self.name, "connection failed")
                last.__cause__ = exc
                continue
            if response.status_code >= 500:
                last = SourceUnavailable(self.name, f"status {response.status_code}")
                continue
            return response
        assert last is not None
        raise last

    async def send_json(
        self,
        method: str,
        path: str,
        body: JSON = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[JSON, httpx.Headers]:
        """Send a request with a JSON body (never retried); return the decoded answer and its headers.

        ``body=None`` sends no body (``DELETE``). An empty answer (``204``, or no content) decodes as
        ``None``; callers that expect a resource validate it and report it invalid. Statuses:

        - 409, 412 → :class:`~sources.errors.SourceVersionConflict` (the record changed meanwhile);
        - 400, 422 → :class:`~sources.errors.SourceRejected` (the source refused what was sent);
        - 404 on a request naming one resource (``PUT``, ``PATCH``, ``DELETE``) →
          :class:`~sources.errors.SourceRejected` ("not found": no such record); on ``POST`` the
          endpoint itself is missing, so :class:`~sources.errors.SourceUnavailable`;
        - 428 (precondition required) → :class:`~sources.errors.SourceUnavailable`: the source wants a
          condition the adapter did not send, a contract mismatch the caller cannot fix;
        - any other 4xx or 5xx → :class:`~sources.errors.SourceUnavailable`.
        """
        try:
            response = await self._client.request(method, path, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise SourceTimeout(self.name, "timed out") from exc
        except httpx.HTTPError as exc:
            raise SourceUnavailable(self.name, "connection failed") from exc
        status = response.status_code
        if status in (409, 412):
            raise SourceVersionConflict(self.name, f"status {status}")
        if status in (400, 422):
            raise SourceRejected(self.name, f"status {status}")
        if status == 404 and method.upper() in _ADDRESSED_METHODS:
            raise SourceRejected(self.name, "not found")
        if status == 428:
            raise SourceUnavailable(self.name, "precondition required")
        if status < 400 and (status == 204 or not response.content.strip()):
            return None, response.headers
        return self._decode(response), response.headers

    def _decode(self, response: httpx.Response) -> JSON:
        if response.status_code >= 400:
            raise SourceUnavailable(self.name, f"status {response.status_code}")
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceResponseInvalid(self.name, "body is not JSON") from exc

    def invalid(self, detail: str) -> SourceResponseInvalid:
        """An error saying this source's payload failed validation (``detail`` must hold no data)."""
        return SourceResponseInvalid(self.name, detail)
