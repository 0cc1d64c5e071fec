"""The one table of error codes, and the extension that puts them on every GraphQL error.

Every error in a response carries ``extensions.code`` and, for source failures, ``extensions.source``
(the source's name, never its text). Errors the gateway does not expect are masked as
``INTERNAL_ERROR``: their text can hold upstream or personal data. Logging records class, code,
source and path only, never messages, variables or bodies.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import assert_never

from graphql import GraphQLError, GraphQLSyntaxError
from graphql.validation.validate import ValidationAbortedError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from auth.errors import (
    AccessDenied,
    AccessRecordFailed,
    AccessUnavailable,
    AuthenticationFailed,
    ConsentDenied,
    FieldNotAllowed,
    InvalidOverride,
    Unauthenticated,
)
from gateway.echoes import NOTHING_SENT, SentValues, syntax_message, withheld_echo
from gateway.explore import without_suggestions
from gateway.input_errors import InputValueError
from gateway.limits import LimitExceeded, OperationNotSelected, OverLimit, TooManySubscriptions
from gateway.rate_limit import RateLimited
from gateway.validation import too_many_comparisons
from resolvers.errors import InvalidArgument
from sources.errors import FailureKind, SourceError

logger = logging.getLogger("patientoverblik.errors")


class ErrorCode(StrEnum):
    """Every code a client can meet in ``extensions.code``."""

    CONSENT_DENIED = "CONSENT_DENIED"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    SOURCE_TIMEOUT = "SOURCE_TIMEOUT"
    SOURCE_INVALID_RESPONSE = "SOURCE_INVALID_RESPONSE"
    SOURCE_INCOMPLETE = "SOURCE_INCOMPLETE"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    """The HTTP request is not a GraphQL request the gateway can run (body, content type, operationName, a method
    the path does not take: HTTP 405 with ``Allow``)."""
    NOT_FOUND = "NOT_FOUND"
    """Nothing is served at the request's path (HTTP 404)."""
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    """The request body is over ``PATIENTOVERBLIK_MAX_REQUEST_BYTES`` (HTTP 413)."""
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    """The request body did not arrive within ``PATIENTOVERBLIK_REQUEST_BODY_TIMEOUT_S`` (HTTP 408)."""
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    """Over a limit on the document (``extensions.limit``, ``extensions.maximum``): tokens, operations, depth,
    aliases, or the comparisons and errors graphql-core's validation may spend."""
    VERSION_CONFLICT = "VERSION_CONFLICT"
    ACCESS_LOG_UNAVAILABLE = "ACCESS_LOG_UNAVAILABLE"
    RATE_LIMITED = "RATE_LIMITED"
    """Over the caller's requests or query cost per window: HTTP 429, ``Retry-After`` and ``extensions.retryAfter``."""
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    """A ``documentId`` or APQ ``sha256Hash`` that is not in the client's trusted documents (HTTP 400)."""
    DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
    """A client registered to run only its trusted documents sent another one (HTTP 403)."""
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    """The connection or the caller already runs as many subscriptions as it may (``extensions.limit``,
    ``extensions.maximum``): the subscription is refused with an ``error`` message, the connection stays."""
    INTERNAL_ERROR = "INTERNAL_ERROR"


# Most specific first: the first matching class wins.
_CODES: tuple[tuple[type[Exception], ErrorCode], ...] = (
    (ConsentDenied, ErrorCode.CONSENT_DENIED),
    (Unauthenticated, ErrorCode.UNAUTHENTICATED),
    (AuthenticationFailed, ErrorCode.UNAUTHENTICATED),
    (AccessDenied, ErrorCode.FORBIDDEN),
    (AccessRecordFailed, ErrorCode.ACCESS_LOG_UNAVAILABLE),
    (InvalidOverride, ErrorCode.BAD_USER_INPUT),
    (InputValueError, ErrorCode.BAD_USER_INPUT),
    (TooManySubscriptions, ErrorCode.TOO_MANY_SUBSCRIPTIONS),
    (LimitExceeded, ErrorCode.QUERY_TOO_COMPLEX),
    (RateLimited, ErrorCode.RATE_LIMITED),
    (OperationNotSelected, ErrorCode.BAD_REQUEST),
    (InvalidOperationTypeError, ErrorCode.BAD_REQUEST),  # a query or mutation over the WebSocket (ADR 0023)
    (CannotGetOperationTypeError, ErrorCode.BAD_REQUEST),
    (InvalidArgument, ErrorCode.BAD_USER_INPUT),
)
"""Errors of the gateway's own making; a source's failure (and access failing closed for one) is coded by
its kind (:func:`failure_code`)."""


def failure_code(kind: FailureKind) -> ErrorCode:
    """The code of a source failure of ``kind``: the one table, for a section and for access failing closed."""
    match kind:
        case FailureKind.UNAVAILABLE:
            return ErrorCode.SOURCE_UNAVAILABLE
        case FailureKind.TIMEOUT:
            return ErrorCode.SOURCE_TIMEOUT
        case FailureKind.INVALID_RESPONSE:
            return ErrorCode.SOURCE_INVALID_RESPONSE
        case FailureKind.INCOMPLETE:
            return ErrorCode.SOURCE_INCOMPLETE
        case FailureKind.REJECTED:
            return ErrorCode.BAD_USER_INPUT
        case FailureKind.VERSION_CONFLICT:
            return ErrorCode.VERSION_CONFLICT
        case _:
            assert_never(kind)


_MESSAGES = {
    ErrorCode.SOURCE_UNAVAILABLE: (
        "The source is unavailable; what it holds is missing here, the rest of the response is unaffected."
    ),
    ErrorCode.SOURCE_TIMEOUT: (
        "The source did not answer in time; what it holds is missing here, the rest of the response is unaffected."
    ),
    ErrorCode.SOURCE_INVALID_RESPONSE: "The source answered with data the gateway could not accept.",
    ErrorCode.SOURCE_INCOMPLETE: "The source answered only in part; what it gave is shown, more may exist.",
    ErrorCode.INTERNAL_ERROR: "Unexpected error.",
}


def code_of(error: GraphQLError) -> ErrorCode:
    """The code for one GraphQL error (README, *Errors*).

    A value the caller sent that does not fit its type (:class:`~gateway.validation.InputValueError`,
    marked where graphql-core finds it) is ``BAD_USER_INPUT``; any other error of the document is
    ``GRAPHQL_VALIDATION_FAILED``; graphql-core giving up on validating is ``QUERY_TOO_COMPLEX``.
    """
    original = error.original_error
    if isinstance(error, ValidationAbortedError):
        return ErrorCode.QUERY_TOO_COMPLEX
    if original is None:
        return ErrorCode.BAD_USER_INPUT if error.path else ErrorCode.GRAPHQL_VALIDATION_FAILED
    if isinstance(original, SourceError | AccessUnavailable):
        return failure_code(original.kind)
    for cls, code in _CODES:
        if isinstance(original, cls):
            return code
    if isinstance(original, GraphQLError):
        inner = code_of(original)
        # graphql-core's own error during execution (an output value its scalar refused) is ours to mask
        return ErrorCode.INTERNAL_ERROR if error.path and inner is ErrorCode.GRAPHQL_VALIDATION_FAILED else inner
    if isinstance(original, ValueError) and error.path is None:
        return ErrorCode.BAD_USER_INPUT  # a scalar rejected its input before execution
    return ErrorCode.INTERNAL_ERROR


def client_message(error: GraphQLError, code: ErrorCode, *, suggestions: bool = True) -> str:
    """The message a client gets for ``error`` of ``code``, built so that it holds no value the caller sent.

    A source's failure and an unexpected error get the code's fixed text; a syntax error is told by
    the kinds of token (:func:`~gateway.echoes.syntax_message`); a value that does not fit its type by
    its place and type (:mod:`gateway.input_errors`); every other message is the gateway's own or
    graphql-core's about the document, which names fields, types, arguments and variables only.
    """
    if code in _MESSAGES:
        return _MESSAGES[code]
    if isinstance(error, GraphQLSyntaxError):
        return syntax_message(error)
    original = error.original_error
    if isinstance(original, InputValueError):
        return f"{error.message} {original.hint}" if suggestions and original.hint else error.message
    return error.message if suggestions else without_suggestions(error.message)


def limit_of(error: GraphQLError) -> OverLimit | None:
    """The limit a refused operation was over: the gateway's own (a document's, a window's), or graphql-core's
    on validation."""
    if isinstance(error.original_error, OverLimit):
        return error.original_error
    if isinstance(error, ValidationAbortedError):
        if error.message.startswith("Too many validation errors"):
            message = f"The document has more than {MAX_VALIDATION_ERRORS} errors; validation stopped there."
            return LimitExceeded(message, "maxValidationErrors", MAX_VALIDATION_ERRORS)
        return too_many_comparisons()
    return None


MAX_VALIDATION_ERRORS = 100
"""graphql-core stops validating a document after this many errors."""


def translate(error: GraphQLError, *, suggestions: bool = True, sent: SentValues = NOTHING_SENT) -> GraphQLError:
    """The client-facing version of ``error``: coded, and masked unless it is expected; without
    "Did you mean" suggestions for a caller who may not explore the schema (``suggestions=False``);
    never holding a value of those the request ``sent`` (:func:`withheld_echo`)."""
    code = code_of(error)
    extensions: dict[str, object] = {"code": code.value}
    original = error.original_error
    source = getattr(original, "source", None)
    if isinstance(source, str):
        extensions["source"] = source
    if isinstance(original, InvalidArgument | InvalidOverride | InputValueError):
        extensions["argument"] = original.argument
    if isinstance(original, ConsentDenied) and original.overridable:
        extensions["overridable"] = True
    if isinstance(original, FieldNotAllowed):
        extensions["field"] = original.field
    limit = limit_of(error)
    if limit is not None:
        extensions |= limit.extensions()
    current_version = getattr(original, "current_version", None)
    if code is ErrorCode.VERSION_CONFLICT and isinstance(current_version, str):
        extensions["currentVersion"] = current_version
    message = str(limit) if limit is not None else client_message(error, code, suggestions=suggestions)
    message = withheld_echo(message, sent, code)
    logger.info(
        "graphql error",
        extra={
            "code": code.value,
            "source": extensions.get("source"),
            "error_class": type(original).__name__ if original else "GraphQLError",
            "path": ".".join(str(p) for p in error.path or ()),
        },
    )
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
