"""The upstreams under the bench: the sandbox in its own process, and a fast upstream replaying its answers.

The Python sandbox saturates before the gateway does, so the bench also measures against a fast
fixed-latency upstream: every answer the gateway asked the sandbox for is recorded once (the
sandbox's request recorders say what was asked; each request is replayed to the sandbox and its
answer stored), then served by nginx from files after ``echo_sleep`` (the echo module of Debian's
``libnginx-mod-http-echo``), on the same port layout as the sandbox so that links inside answers
(FHIR paging ``next`` links, ``fullUrl``) are rewritten by port alone.

An answer is keyed by the exact request target, in both spellings a client sends it (httpx's, and
aiohttp's re-quoted one). GETs are internal redirects to the stored file (a ``Content-Length``
answer with the recorded content type); POSTs, which nginx's static files refuse, are a subrequest
for it. The configuration is generated in a temporary directory at run time; nothing is installed.
A request nginx has no answer for is a 404, which the gateway reports as a source error, so the
bench counts it as a failed request.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx
from yarl import URL

from bench.procs import Server, free_port_block, start
from bench.sandbox_process import ports_from

NOT_PER_QUERY = ("issuer", "minlog")
"""Services whose requests are not part of a query: the key set (cached) and the Min Log export (batched)."""
LOOPBACK_URL = re.compile(rb"(http://127\.0\.0\.1:)([0-9]+)(?![0-9])")
ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")


def sandbox_services() -> list[str]:
    return list(ports_from(0))


@dataclass
class Sandbox:
    """The sandbox process and the scaling patients' CPR numbers."""

    server: Server
    base_port: int
    scaling: dict[int, str]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{ports_from(self.base_port)[name]}"

    def requests(self, name: str) -> list[dict[str, str]]:
        """What service ``name`` received since its recorder was last cleared."""
        listed: list[dict[str, str]] = httpx.get(self.url(name) + "/_sandbox/requests", timeout=30).json()
        return listed

    def clear(self) -> None:
        for name in sandbox_services():
            httpx.delete(self.url(name) + "/_sandbox/requests", timeout=30)

    def total(self) -> int:
        """Requests to the data sources since the last :meth:`clear` (not the issuer, not Min Log)."""
        return sum(len(self.requests(n)) for n in sandbox_services() if n not in NOT_PER_QUERY)

    def token(self, claims: Mapping[str, Any]) -> str:
        response = httpx.post(self.url("issuer") + "/token", json={**claims, "expires_in": 86_400}, timeout=10)
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


def start_sandbox(workdir: Path, latency_ms: float, patients: int, scaling: Iterable[int], python: str) -> Sandbox:
    """``python -m bench.sandbox_process`` on a free block of ports, ready when every service answers."""
    base = free_port_block(max(ports_from(0).values()) + 1)
    manifest = workdir / "sandbox.json"
    args = [python, "-m", "bench.sandbox_process", "--base-port", str(base), "--latency-ms", str(latency_ms)]
    args += ["--patients", str(patients), "--scaling", ",".join(map(str, scaling)), "--manifest", str(manifest)]
    urls = [f"http://127.0.0.1:{port}/_sandbox/faults" for port in ports_from(base).values()]

    def ready() -> bool:
        return manifest.exists() and all(_ok(url) for url in urls)

    server = start("sandbox", args, urls[0], workdir / "sandbox.log", ready=ready, timeout_s=120)
    scaling_cprs = {int(k): v for k, v in json.loads(manifest.read_text())["scaling"].items()}
    return Sandbox(server, base, scaling_cprs)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class Answer:
    """One recorded upstream answer: the request that asked for it and what the sandbox said."""

    source: str
    method: str
    target: str
    """Path and raw query, exactly as the gateway sent them."""
    content_type: str
    body: bytes


class Recorded(Protocol):
    """Where each sandbox service answers, and what it received (a :class:`Sandbox`, or one in a test's thread)."""

    def url(self, name: str) -> str: ...

    def requests(self, name: str) -> list[dict[str, str]]: ...


def record_answers(sandbox: Recorded) -> list[Answer]:
    """Replay every distinct request the data sources received (since the last clear) and keep the answers.

    The sandbox is deterministic for a seed and day, so the replayed answer is the one the gateway got.
    A request whose replay is not HTTP 200 is left out (the fast upstream answers it 404).
    """
    answers: list[Answer] = []
    with httpx.Client(timeout=60) as client:
        for source in sandbox_services():
            if source in NOT_PER_QUERY:
                continue
            seen: set[tuple[str, str]] = set()
            for request in sandbox.requests(source):
                target = request["path"] + (f"?{request['query']}" if request["query"] else "")
                if (request["method"], target) in seen:
                    continue
                seen.add((request["method"], target))
                response = client.request(
                    request["method"],
                    sandbox.url(source) + target,
                    content=request["body"].encode() or None,
                    headers={"content-type": "application/json"} if request["body"] else {},
                )
                if response.status_code == 200:
                    kind = response.headers.get("content-type", "application/octet-stream")
                    answers.append(Answer(source, request["method"], target, kind, response.content))
    return answers


def nginx_available() -> bool:
    return shutil.which("nginx") is not None and ECHO_MODULE.exists()


def write_nginx_config(
    workdir: Path, answers: list[Answer], sandbox: Callable[[str], str], fast_base: int, latency_ms: float
) -> Path:
    """The answers as files and an nginx configuration serving them on ``fast_base``'s port layout.

    ``sandbox(name)`` is the URL the answers were recorded from: inside them it becomes nginx's.
    """
    files = workdir / "answers"
    files.mkdir(parents=True, exist_ok=True)
    new = ports_from(fast_base)
    moved = {str(urlsplit(sandbox(name)).port).encode(): str(port).encode() for name, port in new.items()}

    def relink(match: re.Match[bytes]) -> bytes:
        return match.group(1) + moved.get(match.group(2), match.group(2))

    types: dict[str, str] = {}
    keys: list[str] = []
    posts: dict[tuple[int, str], str] = {}
    for index, answer in enumerate(answers):
        mime = answer.content_type.split(";")[0].strip()
        extension = types.setdefault(mime, f"t{len(types)}")
        name = f"{index}.{extension}"
        (files / name).write_bytes(LOOPBACK_URL.sub(relink, answer.body))
        port = new[answer.source]
        keys += [f'    "{port} {answer.method} {_literal(t)}" {name};' for t in spellings(answer.target)]
        if answer.method != "GET":
            posts[(port, answer.target.split("?")[0])] = mime
    sleep = f"echo_sleep {latency_ms / 1000:.3f};"
    servers = []
    for source, port in new.items():
        if source in NOT_PER_QUERY:
            continue
        exact = [
            f'    location = {_literal(path)} {{ default_type "{_literal(kind)}"; if ($answer = "") {{ return 404; }} '
            f"{sleep} echo_location /_answers/$answer; }}"
            for (post_port, path), kind in posts.items()
            if post_port == port
        ]
        servers.append(
            f"  server {{\n    listen 127.0.0.1:{port};\n"
            f'    location / {{ if ($answer = "") {{ return 404; }} {sleep} echo_exec /_answers/$answer; }}\n'
            + "".join(line + "\n" for line in exact)
            + f"    location /_answers/ {{ internal; alias {files}/; }}\n  }}"
        )
    type_lines = " ".join(f"{_literal(kind)} {ext};" for kind, ext in types.items())
    config = f"""load_module {ECHO_MODULE};
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
  log_format bench '$server_port $status $request_method $request_uri';
  access_log {workdir}/nginx-access.log bench;
  client_body_temp_path {workdir}/body-temp;
  proxy_temp_path {workdir}/proxy-temp;
  fastcgi_temp_path {workdir}/fastcgi-temp;
  uwsgi_temp_path {workdir}/uwsgi-temp;
  scgi_temp_path {workdir}/scgi-temp;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  sendfile on;
  tcp_nodelay on;
  types {{ {type_lines} }}
  map_hash_bucket_size 1024;
  map_hash_max_size 262144;
  map "$server_port $request_method $request_uri" $answer {{
    default "";
{chr(10).join(keys)}
  }}
{chr(10).join(servers)}
}}
"""
    path = workdir / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    for directory in (workdir, files):
        directory.chmod(0o755)  # nginx's workers run as an unprivileged user when started as root
    for file in files.iterdir():
        file.chmod(0o644)
    return path


def spellings(target: str) -> list[str]:
    """``target`` as httpx sends it, and as aiohttp's URL handling (yarl) re-quotes it (``%3A`` → ``:``).

    The recorders hold what the recording gateway sent, in its transport's spelling, so both are made
    from the decoded query: httpx's by its own encoding of the parameters, aiohttp's by yarl's.
    """
    path, _, query = target.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    as_httpx = httpx.URL("http://upstream" + path, params=params).raw_path.decode("ascii") if params else target
    forms = [
        target,
        as_httpx,
        URL("http://upstream" + target).raw_path_qs,
        URL("http://upstream" + as_httpx).raw_path_qs,
    ]
    return list(dict.fromkeys(forms))


def _literal(text: str) -> str:
    """``text``, checked to mean itself inside an nginx quoted string (recorded targets are percent-encoded)."""
    if any(c in text for c in "\"'\\ \n\r\t{};$"):
        raise ValueError(f"nginx cannot match {text!r} literally")
    return text


@dataclass
class FastUpstream:
    """nginx serving the recorded answers; counts what it served from its access log."""

    server: Server
    base_port: int
    log: Path
    _read: int = 0
    _total: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{ports_from(self.base_port)[name]}"

    def total(self) -> int:
        """Requests nginx answered (404s included) since the last :meth:`clear`."""
        with self.log.open("rb") as log:
            log.seek(self._read)
            complete = log.read().rpartition(b"\n")[0]
        if complete:
            self._read += len(complete) + 1
            self._total += complete.count(b"\n") + 1
        return self._total

    def clear(self) -> None:
        self.total()
        self._total = 0


def start_fast_upstream(
    workdir: Path, answers: list[Answer], sandbox: Callable[[str], str], latency_ms: float
) -> FastUpstream:
    """nginx on a free block of ports, serving ``answers`` (recorded from ``sandbox(name)``) after ``latency_ms``."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = free_port_block(max(ports_from(0).values()) + 1)
    config = write_nginx_config(workdir, answers, sandbox, base, latency_ms)
    log = workdir / "nginx-access.log"
    log.touch()
    args = ["nginx", "-c", str(config), "-p", str(workdir), "-g", "daemon off;"]
    server = start("fast upstream", args, f"http://127.0.0.1:{ports_from(base)['cpr']}/", workdir / "nginx.out")
    return FastUpstream(server, base, log)
