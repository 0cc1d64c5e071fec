"""Reading a GraphQL-over-HTTP request: bounded, strict, and refused with a coded GraphQL error body.

strawberry reads the whole body, trusts ``json.loads`` and answers some refusals as plain text and
others as HTTP 500 with a traceback (a 5,000-digit number, the body ``"x"`` or ``null``, a byte
0xff, a 5,000-deep array). Here every body is read as a stream that stops at ``max_request_bytes``
and at a total deadline of ``body_timeout_s`` (a client dripping a byte a second holds a connection
no longer than that: HTTP 408), decoded as strict UTF-8 JSON with bounded numbers and nesting, and
checked against the shape of a GraphQL request (GraphQL over HTTP, §*Request Parameters*). Anything else raises
:class:`RequestRefused`, which becomes ``{"errors": [{"message", "extensions": {"code"}}]}`` with a
4xx status (a body over a limit adds the limit's fields, :meth:`RequestRefused.over`); nothing here can
raise anything else.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
from typing import Any, Self

from cross_web import StarletteRequestAdapter
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import Scope
from strawberry.http import GraphQLRequestData

from gateway.errors import ErrorCode
from gateway.limits import LimitExceeded, Limits, OverLimit

MAX_JSON_DEPTH = 32
"""Objects and arrays nested deeper than this are refused (the gateway's inputs nest about 5 deep)."""
MAX_NUMBER_CHARS = 40
"""A JSON number longer than this is refused (GraphQL's Int is 32-bit; a float needs about 25)."""


class RequestRefused(Exception):
    """The HTTP request is not one the gateway reads; the message says why, never echoing the body."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    @classmethod
    def over(cls, status: int, code: ErrorCode, limit: OverLimit, headers: Mapping[str, str] | None = None) -> Self:
        """A refusal for being over ``limit``: its message, and its fields in ``extensions``."""
        return cls(status, code, str(limit), headers, limit.extensions())

    def response(self) -> JSONResponse:
        """The refusal as a GraphQL error body."""
        return error_response(self.status, self.code, self.message, self.headers, self.extensions)


def error_response(
    status: int,
    code: ErrorCode,
    message: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, object] | None = None,
) -> JSONResponse:
    """``{"errors": [{"message": ..., "extensions": {"code": ..., **extensions}}]}`` with ``status``."""
    body = {"errors": [{"message": message, "extensions": {"code": code.value, **(extensions or {})}}]}
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store", **(headers or {})})


def bad_request(message: str) -> RequestRefused:
    """HTTP 400 ``BAD_REQUEST``."""
    return RequestRefused(400, ErrorCode.BAD_REQUEST, message)


class BoundedBody(StarletteRequestAdapter):
    """strawberry's request adapter, reading at most ``max_bytes`` of the body within ``timeout_s``
    seconds in all (see :func:`bounded_body`)."""

    max_bytes = Limits().max_request_bytes
    timeout_s = Limits().body_timeout_s

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self._starlette = request

    @property
    def scope(self) -> Scope:
        """The ASGI scope (its ``state`` holds the caller and the negotiated media type)."""
        return self._starlette.scope

    async def get_body(self) -> bytes:
        """The body; :class:`RequestRefused` (413) as soon as it is over the limit, before reading the rest,
        and (408) when it has not all arrived ``timeout_s`` seconds after reading began."""
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._read()
        except TimeoutError:
            message = f"The request body did not arrive within {self.timeout_s:g} seconds."
            late = LimitExceeded(message, "requestBodyTimeoutSeconds", self.timeout_s)
            raise RequestRefused.over(408, ErrorCode.REQUEST_TIMEOUT, late, {"connection": "close"}) from None
        except ClientDisconnect:
            raise bad_request("The client went away before the body was read.") from None

    async def _read(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in self._starlette.stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> RequestRefused:
        message = f"The request body is over {self.max_bytes} bytes."
        return RequestRefused.over(
            413, ErrorCode.REQUEST_TOO_LARGE, LimitExceeded(message, "maxRequestBytes", self.max_bytes)
        )


def bounded_body(limits: Limits) -> type[BoundedBody]:
    """A request adapter class reading at most ``limits.max_request_bytes`` within ``limits.body_timeout_s``."""
    return type(
        "BoundedBody", (BoundedBody,), {"max_bytes": limits.max_request_bytes, "timeout_s": limits.body_timeout_s}
    )


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise bad_request(f"A number in the body is longer than {MAX_NUMBER_CHARS} characters.")
    return text


def _integer(text: str) -> int:
    return int(_number(text))


def _float(text: str) -> float:
    value = float(_number(text))
    if not math.isfinite(value):
        raise bad_request("A number in the body is too large.")
    return value


def _constant(text: str) -> Any:
    raise bad_request(f"{text} is not JSON.")


def decode_json(body: bytes) -> Any:
    """The JSON value of ``body``: UTF-8, no NaN or Infinity, numbers and nesting bounded."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The body is not UTF-8.") from None
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise bad_request(f"The body nests deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError:
        raise bad_request("The body is not JSON.") from None
    _check_values(value)
    return value


def _check_values(value: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH` and strings that are not text (lone surrogates).

    Iterative and linear in the body: no recursion for a deep body to exhaust.
    """
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _text(item)
            continue
        if isinstance(item, dict):
            for key in item:
                _text(key)
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= MAX_JSON_DEPTH:
            raise bad_request(f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
        pending.extend((child, depth + 1) for child in children)


def _text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("A string in the body holds a lone surrogate escape, which is not text.") from None


def request_data(value: Any) -> GraphQLRequestData:
    """The GraphQL request in a decoded JSON body; :class:`RequestRefused` unless it has that shape."""
    if isinstance(value, list):
        raise bad_request("Batched requests (a JSON array) are not supported; send one request per POST.")
    if not isinstance(value, dict):
        raise bad_request("The body must be a JSON object with a `query`.")
    query = value.get("query")
    if not isinstance(query, str) or not query.strip():
        raise bad_request("The request's `query` must be a non-empty string.")
    variables = value.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise bad_request("The request's `variables` must be an object or null.")
    operation_name = value.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("The request's `operationName` must be a string or null.")
    extensions = value.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise bad_request("The request's `extensions` must be an object or null.")
    return GraphQLRequestData(
        query=query, variables=variables, operation_name=operation_name, extensions=extensions, protocol="http"
    )
