"""Server processes the bench starts, free ports, and what ``/proc`` says a process tree used.

Every server runs in its own session (process group) so that the bench can stop it and everything
it spawned (uvicorn's workers, the ``patientoverblik sandbox`` child) by that group's id, and only
that. CPU time and memory are read from ``/proc/<pid>/stat`` and ``/proc/<pid>/status`` of the
server's whole tree, so the load generator and the upstreams never count towards a server.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_block(span: int, *, low: int = 20_000, high: int = 60_000, tries: int = 200) -> int:
    """The first port of ``span`` consecutive free loopback ports (for the sandbox's fixed offsets)."""
    rng = random.Random()
    for _ in range(tries):
        base = rng.randrange(low, high - span)
        if all(_bindable(base + offset) for offset in range(span)):
            return base
    raise RuntimeError(f"no {span} consecutive free ports found")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def tree(pid: int) -> list[int]:
    """``pid`` and every live descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(int(stat[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name: state, ppid, ... (None if gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its live descendants."""
    total = 0
    for member in tree(pid):
        stat = _stat(member)
        if stat is not None:
            total += int(stat[11]) + int(stat[12])  # utime, stime: fields 14 and 15 of stat
    return total / CLOCK_TICKS


def memory_kib(pid: int, field: str = "VmHWM") -> int:
    """``field`` of ``/proc/<pid>/status`` summed over the tree, in KiB (VmHWM: peak RSS; VmRSS: now)."""
    total = 0
    for member in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
    return total


@dataclass
class Server:
    """A server process (and its children) the bench started; ``url`` is where it answers."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """SIGINT to the server's own process group, SIGKILL to it after 10 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def start(
    name: str,
    args: Sequence[str],
    url: str,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    ready: Callable[[], bool] | None = None,
    timeout_s: float = 60.0,
) -> Server:
    """Start ``args`` in a new session and wait until ``ready()`` (default: ``url`` answers HTTP)."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, nginx and wrk, fixed arguments
            list(args), stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, start_new_session=True
        )
    server = Server(name, process, url, log)
    check = ready or (lambda: answers(url))
    deadline = time.monotonic() + timeout_s
    while not check():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} did not start:\n{server.log_tail()}")
        time.sleep(0.1)
    return server


def answers(url: str) -> bool:
    """Whether anything answers HTTP at ``url`` (any status)."""
    try:
        httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    return True
