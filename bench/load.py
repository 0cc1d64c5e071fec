"""Load from a separate process: ``wrk`` (Debian's ``wrk``) with a fixed duration and client count.

One wrk thread holds ``clients`` keep-alive connections, each sending the next request when the last
answer arrived (a closed loop). A generated Lua script sets the method, headers and body, counts the
answers that failed (not HTTP 200, or a GraphQL answer with ``"errors"``), and prints one JSON line
at the end: completed requests, failures, socket errors, and the latency percentiles in µs.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) failed = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then failed = failed + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("failed") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "failed": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}}\\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}:,._-/()[]!@#%^&*+=<>?|~`'")


def lua_string(text: str) -> str:
    """``text`` (UTF-8) as a Lua string literal: safe ASCII as is, every other byte as a ``\\ddd`` escape."""
    return '"' + "".join(chr(b) if b in SAFE else f"\\{b:03d}" for b in text.encode()) + '"'


def write_script(path: Path, method: str, headers: Mapping[str, str], body: str = "") -> Path:
    """The wrk Lua script for one kind of request."""
    lines = "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    path.write_text(SCRIPT.format(method=lua_string(method), body=lua_string(body), headers=lines), encoding="utf-8")
    return path


@dataclass(frozen=True)
class LoadResult:
    """What wrk measured over one run."""

    requests: int
    duration_s: float
    failed: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


def parse(output: str) -> LoadResult:
    """The ``BENCH {...}`` line the script prints."""
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    raw = json.loads(line.removeprefix("BENCH "))
    if raw["requests"] == 0:  # nothing completed: wrk reports percentiles of nothing as 0
        raw |= dict.fromkeys(("p50_us", "p95_us", "p99_us"), math.nan)
    return LoadResult(
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        failed=raw["failed"],
        socket_errors=raw["socket_errors"],
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def start_wrk(url: str, script: Path, clients: int, duration_s: float) -> subprocess.Popen[str]:
    """``clients`` connections on one wrk thread for ``duration_s`` seconds; answers after 60 s are errors."""
    args = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration_s))}s", "--timeout", "60s", "-s", str(script)]
    return subprocess.Popen([*args, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603


def finish_wrk(process: subprocess.Popen[str], timeout_s: float = 180) -> LoadResult:
    """Wait for wrk and read its summary."""
    out, err = process.communicate(timeout=timeout_s)
    if process.returncode != 0 or "BENCH " not in out:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err.strip() or out.strip()}")
    return parse(out)
