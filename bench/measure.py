"""One measured run, and the median of several: what a server did under a fixed load.

Per run: wrk's requests/s and latency percentiles over the whole run; the server tree's highest RSS
(sampled every 0.2 s while the load runs). Cost per request is taken over a window inside the run
(from 30% of it to 0.2 s before its end), when the load is steady: the server tree's CPU seconds
(``/proc``), the requests the upstream received, and the requests the server handled (distinct
request ids in its access records), each read at both ends of the window. Costs are not divided
by wrk's completed count because wrk stops with requests in flight, which the server has partly
paid for and may never finish.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

from bench.load import finish_wrk, start_wrk
from bench.procs import Server, cpu_seconds, memory_kib

SAMPLE_EVERY_S = 0.2
WINDOW = (0.3, 0.2)
"""The cost window: from this share of the run to this many seconds before its end."""
IDLE_CPU = 0.05
"""A server using less than this share of a core is idle (the Min Log export wakes it every few seconds)."""
IDLE_WINDOW_S = 0.3
MIN_HANDLED = 10
"""Fewer requests handled in the window leave the costs unmeasured (NaN): the requests in flight at either
end of the window would weigh too much."""


STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line of progress, with the minutes and seconds since the bench started."""
    elapsed = int(time.monotonic() - STARTED)
    print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", flush=True)


class Upstream(Protocol):
    """Counts the requests the data sources received (the sandbox's recorders, nginx's access log)."""

    def clear(self) -> None:
        """Start counting from zero."""

    def total(self) -> int:
        """Requests to the data sources since the last :meth:`clear`."""


@dataclass(frozen=True)
class Sample:
    """The figures of one run (or the medians of several); NaN where too little was done to measure."""

    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms: float
    """Server CPU (user + system, every process of the server) per handled request."""
    rss_mib: float
    """Highest resident memory of the server's processes together while the load ran."""
    upstream_per_query: float
    """Requests to the data sources per handled request."""
    failed: float
    """Share of wrk's answers that were not HTTP 200 or carried GraphQL errors, plus socket errors."""
    upstream_cpu: float
    """The upstream's CPU use in the window, in cores (1.0: one core busy)."""
    handled: int
    """Requests the server handled in the window."""


def median(samples: list[Sample]) -> Sample:
    """Field by field median of the runs that measured it (``handled`` is summed)."""
    values: dict[str, Any] = {f.name: _median([getattr(s, f.name) for s in samples]) for f in fields(Sample)}
    values["handled"] = sum(s.handled for s in samples)
    return Sample(**values)


def _median(values: list[float]) -> float:
    measured = [v for v in values if not math.isnan(v)]
    return statistics.median(measured) if measured else math.nan


def handled_requests(database: Path) -> int:
    """Requests that left access records: distinct ``request_id`` (gateway and peer name them alike)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("SELECT count(DISTINCT request_id) FROM access_record").fetchone()[0])


class PeakRss:
    """Samples the tree's RSS in a thread until stopped; ``peak_kib`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib = pid, memory_kib(pid, "VmRSS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.peak_kib = max(self.peak_kib, memory_kib(self.pid, "VmRSS"))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kib


def quiesce(server: Server, timeout_s: float = 120.0) -> None:
    """Wait until the server has finished what wrk left in flight, so that it does not weigh on the next run."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(server.pid)
        time.sleep(IDLE_WINDOW_S)
        if cpu_seconds(server.pid) - before <= IDLE_CPU * IDLE_WINDOW_S:
            return


@dataclass(frozen=True)
class Snapshot:
    at: float
    cpu_s: float
    upstream_cpu_s: float
    handled: int
    sent: int

    @staticmethod
    def take(server: Server, database: Path, upstream: Upstream, upstream_pid: int) -> Snapshot:
        return Snapshot(
            time.monotonic(),
            cpu_seconds(server.pid),
            cpu_seconds(upstream_pid),
            handled_requests(database),
            upstream.total(),
        )


def run_once(
    server: Server,
    database: Path,
    upstream: Upstream,
    upstream_pid: int,
    url: str,
    script: Path,
    clients: int,
    duration_s: float,
) -> Sample:
    """One wrk run of ``clients`` for ``duration_s`` against ``url``, with the server's and upstream's costs."""
    upstream.clear()
    peak = PeakRss(server.pid)
    started = time.monotonic()
    wrk = start_wrk(url, script, clients, duration_s)
    time.sleep(WINDOW[0] * duration_s)
    first = Snapshot.take(server, database, upstream, upstream_pid)
    time.sleep(max(0.0, started + duration_s - WINDOW[1] - time.monotonic()))
    last = Snapshot.take(server, database, upstream, upstream_pid)
    result = finish_wrk(wrk)
    rss_kib = peak.stop()
    quiesce(server)
    handled = last.handled - first.handled
    per = (1 / handled) if handled >= MIN_HANDLED else math.nan
    return Sample(
        rps=result.rps,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        p99_ms=result.p99_ms,
        cpu_ms=1000 * (last.cpu_s - first.cpu_s) * per,
        rss_mib=rss_kib / 1024,
        upstream_per_query=(last.sent - first.sent) * per,
        failed=(result.failed + result.socket_errors) / max(result.requests, 1),
        upstream_cpu=(last.upstream_cpu_s - first.upstream_cpu_s) / max(last.at - first.at, 1e-9),
        handled=handled,
    )
