"""The wrk script sends exactly the request it was written for and counts failed answers (no timing)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.load import finish_wrk, start_wrk, write_script

BODY = json.dumps({"query": '{ patient(cpr: "1403723705") { person { name } } }', "x": "Søren \\ æ\n'"})
seen: list[tuple[str, str, str, bytes]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        seen.append((self.command, self.path, self.headers["authorization"], body))
        answer = b'{"data": null, "errors": [{"message": "no"}]}' if self.path == "/bad" else b'{"data": {}}'
        self.send_response(200)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk)")
def test_wrk_sends_the_scripted_request_and_counts_answers_with_errors_as_failed(server: str, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.lua", "POST", {"authorization": "Bearer a.b-c_d", "x-note": "æ"}, BODY)
    good = finish_wrk(start_wrk(server + "/good", script, clients=1, duration_s=1))
    bad = finish_wrk(start_wrk(server + "/bad", script, clients=1, duration_s=1))
    assert good.requests > 0 and good.failed == 0 and good.socket_errors == 0
    assert bad.requests > 0 and bad.failed == bad.requests
    assert {(method, authorization, body) for method, _, authorization, body in seen} == {
        ("POST", "Bearer a.b-c_d", BODY.encode())
    }
