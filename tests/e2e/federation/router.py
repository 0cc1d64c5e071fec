"""A real Federation router for tests: Hive Gateway in front of given subgraphs, on loopback (ADR 0022).

:func:`router` composes the subgraphs with ``@theguild/federation-composition`` and starts Hive Gateway
(``router.mjs``, pinned in ``package-lock.json``, installed by ``make install``) on a free port of
127.0.0.1; it yields the router's GraphQL URL and stops the process by its id when the block ends. The
router forwards each client's ``Authorization`` header to every subgraph it asks. A subgraph may run
as several instances: the router takes turns between its URLs, request by request. Without node or
the installed packages the test skips (fails under ``CI=true``).

    with router([Subgraph("overview", (gateway_url,)), Subgraph("medication", (medication_url,))]) as url:
        httpx.post(url, json={"query": ...}, headers={"authorization": f"Bearer {token}"})
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.served import skip_or_fail

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "router.mjs"
COMPOSER = "router-composer"
COMPOSER_CLIENT = {"name": "Federation composition", "fields": ["Query._service", "_Service.*"], "developer": True}
"""A client registration (``PATIENTOVERBLIK_CLIENTS``) whose token may read the gateway's ``_service { sdl }``."""
START_TIMEOUT_S = 60.0
"""How long composing and starting may take on a loaded machine."""


@dataclass(frozen=True)
class Subgraph:
    """One subgraph of the composed graph: its name and the GraphQL URLs of its instances."""

    name: str
    urls: tuple[str, ...]
    sdl: str | None = None
    """The subgraph's SDL; without it the router asks the first instance for ``_service { sdl }``."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed (the federation router test runs Hive Gateway under node)")
    if not (HERE / "node_modules" / "@graphql-hive" / "gateway-runtime").is_dir():
        skip_or_fail(f"Hive Gateway is not installed in {HERE}: run `make install` (npm ci --prefix {HERE})")
    assert node is not None
    return node


def _first_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            return process.stdout.readline()
    return ""


@contextmanager
def router(subgraphs: Sequence[Subgraph], *, sdl_headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """Hive Gateway composing ``subgraphs``; yields its URL (``http://127.0.0.1:<port>/graphql``).

    ``sdl_headers`` go with the requests for a subgraph's SDL (e.g. a developer client's token where the
    gateway offers ``_service`` only to schema explorers). Raises ``RuntimeError`` when composition fails
    or the router does not start, with what it said.
    """
    config = {
        "subgraphs": [{"name": s.name, "urls": list(s.urls), **({"sdl": s.sdl} if s.sdl else {})} for s in subgraphs],
        "sdlHeaders": dict(sdl_headers or {}),
    }
    command = [_node(), str(SCRIPT), json.dumps(config)]
    with tempfile.TemporaryFile("w+") as said:  # stderr, read only when it does not start (a pipe could fill)
        process = subprocess.Popen(  # noqa: S603 - node and a script of ours
            command, cwd=HERE, stdout=subprocess.PIPE, stderr=said, text=True
        )
        try:
            line = _first_line(process, START_TIMEOUT_S)
            started = json.loads(line) if line.startswith("{") else {}
            if "url" not in started:
                _stop(process)
                said.seek(0)
                raise RuntimeError(f"the router did not start: {started.get('errors') or line or said.read()[-2000:]}")
            yield str(started["url"])
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the router by its process id: SIGTERM, then SIGKILL if it does not end."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()
