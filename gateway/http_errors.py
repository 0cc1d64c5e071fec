"""Every error the HTTP edge answers is a coded GraphQL error body: none in plain text (ADR 0009, 0028).

Left alone, Starlette answers an unknown path (404), a method a route does not take (405, with
``Allow``), a static file that is not there and an unexpected exception (500) in plain text, and
strawberry refuses a method or a disabled GraphiQL with its own reason. Here each becomes
``{"errors": [{"message": ..., "extensions": {"code": ...}}]}`` with its status and headers
(``Allow`` kept): ``NOT_FOUND`` for 404, ``INTERNAL_ERROR`` for 500 (nothing of the exception is
told), ``BAD_REQUEST`` otherwise. :func:`exception_handlers` goes to the ``Starlette`` app; the GraphQL
endpoint and the CORS preflight use :func:`http_error_response` for theirs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import ErrorCode
from gateway.request import error_response

NOT_FOUND_MESSAGE = "Nothing is served at this path; GraphQL is served at POST /graphql."
INTERNAL_MESSAGE = "Unexpected error."


def code_for(status: int) -> ErrorCode:
    """The code of an HTTP error status the edge answers outside GraphQL."""
    if status == 404:
        return ErrorCode.NOT_FOUND
    if status >= 500:
        return ErrorCode.INTERNAL_ERROR
    return ErrorCode.BAD_REQUEST


def http_error_response(
    status: int, method: str, headers: Mapping[str, str] | None = None, message: str | None = None
) -> Response:
    """The coded body for HTTP error ``status`` to a ``method`` request; a 405 says what ``Allow`` allows."""
    headers = dict(headers or {})
    if message is None:
        message = _message(status, method, headers)
    return error_response(status, code_for(status), message, headers)


def _message(status: int, method: str, headers: Mapping[str, str]) -> str:
    if status == 404:
        return NOT_FOUND_MESSAGE
    if status == 405:
        allowed = next((value for name, value in headers.items() if name.lower() == "allow"), "")
        return f"{method} is not allowed here; allowed: {allowed}." if allowed else f"{method} is not allowed here."
    if status >= 500:
        return INTERNAL_MESSAGE
    return "The request cannot be served."


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    return http_error_response(exc.status_code, request.method, exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    return http_error_response(500, request.method)


def exception_handlers() -> dict[type[Exception] | int, Callable[[Request, Exception], Awaitable[Response]]]:
    """The ``Starlette`` app's handlers: its HTTP errors and any unexpected exception, coded."""
    return {HTTPException: _http_error, Exception: _internal_error}
