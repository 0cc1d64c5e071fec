"""Logs without personal data: every line through one filter that drops query strings and exception
messages and masks CPR numbers, in JSON with the request id, for the gateway's own lines and uvicorn's.

The last test runs ``patientoverblik serve`` as an operator would (a process on a free loopback port)
and reads what it writes to stderr: uvicorn's access line of a refused GET that carried a CPR number in
its query, and the gateway's own INFO line, which uvicorn's default logging set-up used to drop."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.logging import REQUEST_ID, PersonalDataFilter, build_handler, scrub
from gateway.settings_telemetry import LogFormat
from sources.ids import CPR_SHAPED

HANS = "1403723705"


def logged(record: logging.LogRecord, log_format: LogFormat = LogFormat.JSON) -> str:
    stream = io.StringIO()
    handler = build_handler(stream, log_format)
    handler.handle(record)
    return stream.getvalue()


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_an_access_line_loses_its_query_string() -> None:
    line = record(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/graphql?query={{patient(cpr:{HANS})}}", "1.1", 405
    )

    document = json.loads(logged(line))

    assert document["message"] == '127.0.0.1:5000 - "GET /graphql HTTP/1.1" 405'
    assert document["logger"] == "uvicorn.access"
    assert document["level"] == "INFO"


@given(
    digits=st.from_regex(r"\A[0-9]{10}\Z"),
    dash=st.booleans(),
    before=st.sampled_from(["", " ", "cpr=", "%7C", "patient ", "x"]),
    after=st.sampled_from(["", " ", ".", "&", "x"]),
)
def test_every_cpr_shaped_string_is_masked(digits: str, dash: bool, before: str, after: str) -> None:
    cpr = f"{digits[:6]}-{digits[6:]}" if dash else digits
    text = f"asked {before}{cpr}{after} twice"

    assert cpr not in scrub(text)
    assert not CPR_SHAPED.search(scrub(text))
    assert cpr not in logged(record("%s", text, detail=text))


def test_longer_numbers_are_left_alone() -> None:
    assert scrub("SOR 378641000016007, 1048576 bytes") == "SOR 378641000016007, 1048576 bytes"


def test_an_exception_keeps_its_frames_and_class_but_not_its_message() -> None:
    try:
        try:
            raise KeyError(f"Hans Test Jensen {HANS}")
        except KeyError as inner:
            raise RuntimeError("upstream said: Hans Test Jensen lives at Vestergade 1") from inner
    except RuntimeError:
        failure = logging.LogRecord("gateway", logging.ERROR, __file__, 1, "request failed", (), sys.exc_info())

    text = json.loads(logged(failure))["exc_info"]

    assert "Hans" not in text
    assert HANS not in text
    assert "KeyError" in text
    assert text.endswith("RuntimeError")
    assert "test_an_exception_keeps_its_frames_and_class_but_not_its_message" in text


def test_a_line_written_while_serving_names_the_request() -> None:
    token = REQUEST_ID.set("0123abcd4567")
    try:
        text = logged(record("served"), LogFormat.TEXT)
    finally:
        REQUEST_ID.reset(token)

    assert "[0123abcd4567] served" in text


def test_a_record_is_filtered_once_however_many_handlers_see_it() -> None:
    line = record("%s", f"cpr {HANS}")
    PersonalDataFilter().filter(line)
    PersonalDataFilter().filter(line)

    assert line.getMessage() == "cpr [cpr]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_served_gateway_logs_json_lines_without_the_cpr_of_a_refused_get(tmp_path: Path) -> None:
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.upper().startswith("PATIENTOVERBLIK_")},
        "PATIENTOVERBLIK_PORT": str(port),
        "PATIENTOVERBLIK_DATABASE_URL": f"sqlite:///{tmp_path / 'access.db'}",
        "PATIENTOVERBLIK_MINLOG": "null",
        "PATIENTOVERBLIK_GRAPHIQL": "false",
    }
    command = [sys.executable, "-c", "from gateway.cli import main; main()", "serve"]
    server = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, cwd=tmp_path)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        query = quote(f'{{ patient(cpr: "{HANS}") {{ person {{ name }} }} }}')
        refused = httpx.get(f"{base}/graphql?query={query}", headers={"x-request-id": "operator-check-1"})
        anonymous = httpx.post(f"{base}/graphql", json={"query": f'{{ patient(cpr: "{HANS}") {{ cpr }} }}'})
    finally:
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=20)

    assert refused.status_code == 405
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    lines = [json.loads(line) for line in stderr.decode().splitlines()]
    assert HANS not in stderr.decode()
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    get = next(line for line in access if '"GET /graphql' in line["message"])
    post = next(line for line in access if '"POST /graphql' in line["message"])
    assert get["message"].endswith('"GET /graphql HTTP/1.1" 405')
    assert get["correlation_id"] == "operator-check-1"  # the caller's id, beside the gateway's own
    assert get["request_id"] == refused.headers["x-request-id"] != "operator-check-1"
    assert refused.headers["x-correlation-id"] == "operator-check-1"
    own = [line for line in lines if line["logger"] == "patientoverblik.errors"]
    assert [(line["level"], line["code"]) for line in own] == [("INFO", "UNAUTHENTICATED")]
    assert own[0]["request_id"] == post["request_id"] == anonymous.headers["x-request-id"]
    assert any("Application startup complete" in line["message"] for line in lines if line["logger"] == "uvicorn.error")


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail("the gateway stopped while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail("the gateway did not start within 30 s")
