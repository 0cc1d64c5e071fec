"""Logging that never carries personal data: one filtered handler for the gateway and uvicorn (ADR 0019).

Every log line of the process (the gateway's own loggers, uvicorn's server and access logs, the
libraries') goes through one handler on the root logger (:func:`log_config`, which ``serve`` and
``demo`` give uvicorn so that its logging set-up no longer drops the gateway's INFO lines). The
handler's :class:`PersonalDataFilter` rewrites every record before it is formatted:

- query strings go from every path or URL in the message (``GET /graphql?query=…`` →
  ``GET /graphql``): a refused GET carries the whole operation, CPR numbers included, in its query;
- CPR-shaped strings (ten digits, with or without a dash after six) become ``[cpr]``, in the
  message and in every string field of the record;
- an exception keeps its class names and stack frames (file, line, function), never its message,
  which can hold a CPR number, a name or an upstream's text;
- the request id of the request being served (:data:`REQUEST_ID`, set by :mod:`gateway.telemetry`)
  is added as ``request_id``, and the caller's own id for it, when it sent a usable one, as
  ``correlation_id`` (:data:`CORRELATION_ID`).

Names cannot be recognised in free text: the gateway's own lines never hold one (they name error
class, code, source and path only, :mod:`gateway.errors`), and the chatty loggers that print
request URLs or bodies (httpx, httpcore, strawberry's execution), and the access log's connection pool
(a line per connection taken, psycopg.pool), are held at WARNING. A test scans
every line the end-to-end suite logs for CPR numbers and the personas' names (``tests/e2e``).

Formats (``PATIENTOVERBLIK_LOG__FORMAT``): ``json``, one object a line with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id``, ``correlation_id`` and the record's extra fields; or
``text``.
"""

from __future__ import annotations

import logging
import re
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from gateway.settings_telemetry import LogFormat, LogLevel, LogSettings
from sources.ids import CPR_SHAPED

REQUEST_ID: ContextVar[str | None] = ContextVar("patientoverblik_request_id", default=None)
"""The id of the request being served, for every line logged while serving it."""
CORRELATION_ID: ContextVar[str | None] = ContextVar("patientoverblik_correlation_id", default=None)
"""The caller's own id for the request being served (its ``X-Request-Id``), when it sent a usable one."""

CPR_MASK = "[cpr]"
_QUERY = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#\"']*)?/[^\s?#\"']*)\?[^\s#\"']*")
"""A path (or URL) followed by a query string: the query string goes."""
_CHATTY = ("httpx", "httpcore", "strawberry.execution", "psycopg.pool")
_OWN_FIELDS = frozenset({"request_id", "correlation_id"})
_SKIPPED = frozenset({*RESERVED_ATTRS, "color_message"})
"""Record attributes that are not extra fields (``color_message``: uvicorn's coloured copy of the message)."""


def scrub(text: str) -> str:
    """``text`` without query strings and with CPR-shaped strings masked."""
    return CPR_SHAPED.sub(CPR_MASK, _QUERY.sub(r"\1", text))


def quiet_transport_loggers() -> None:
    """Keep loggers that print request URLs or bodies at WARNING or above."""
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)


class PersonalDataFilter(logging.Filter):
    """Rewrites each record as the module describes; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_scrubbed", False):
            return True
        record.msg = scrub(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _SKIPPED and key not in _OWN_FIELDS and isinstance(value, str):
                setattr(record, key, scrub(value))
        if record.exc_info is not None:
            record.exc_text = frames_only(record.exc_info)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record.request_id = REQUEST_ID.get()
        record.correlation_id = CORRELATION_ID.get()
        record._scrubbed = True
        return True


def frames_only(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None],
) -> str:
    """A traceback with the exceptions' class names and the frames (file, line, function), no messages.

    Chained exceptions come first, as Python prints them.
    """
    chain: list[BaseException] = []
    error = exc_info[1]
    while error is not None and all(error is not seen for seen in chain):
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    blocks = []
    for error in reversed(chain):
        frames = traceback.extract_tb(error.__traceback__)
        lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
        blocks.append("\n".join(["Traceback (most recent call last):", *lines, type(error).__qualname__]))
    return "\n\nThe above exception led to the one below:\n\n".join(blocks)


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, ``request_id``, ``correlation_id``,
    extra fields."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=sorted(_SKIPPED),
            timestamp="time",
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_data.pop("_scrubbed", None)


class TextLineFormatter(logging.Formatter):
    """``time level logger [request id] message`` (for people reading a terminal)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def build_handler(stream: Any, log_format: LogFormat) -> logging.Handler:
    """A stream handler with the filter and the formatter of ``log_format`` (tests attach one to capture)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(JsonLineFormatter() if log_format is LogFormat.JSON else TextLineFormatter())
    return handler


def log_config(settings: LogSettings) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` document for uvicorn's ``log_config``: everything to one filtered
    handler on stderr, uvicorn's loggers included, the chatty ones at WARNING."""
    formatter = "json" if settings.format is LogFormat.JSON else "text"
    level = settings.level.value
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"personal_data": {"()": f"{__name__}.PersonalDataFilter"}},
        "formatters": {
            "json": {"()": f"{__name__}.JsonLineFormatter"},
            "text": {"()": f"{__name__}.TextLineFormatter"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["personal_data"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            **{name: {"level": level, "handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.access")},
            **{name: {"level": LogLevel.WARNING.value} for name in _CHATTY},
        },
    }
