"""``make bench`` (``python -m bench``): the gateway and the hand-written peer under load, side by side.

1. The sandbox starts in its own process, every source at ``BENCH_LATENCY_MS``, with the scaling
   patients (:mod:`bench.sandbox_process`).
2. Fast upstream (when nginx and its echo module are installed): a gateway answers every measured
   query once against the sandbox, the answers the sources gave are recorded and served by nginx
   with the same latency (:mod:`bench.upstream`).
3. For each upstream (fast, then the sandbox): every contender starts as a uvicorn server process
   (:mod:`bench.contenders`), each query is checked once (the peer's overview must equal the
   gateway's), then each case runs ``BENCH_ROUNDS`` rounds, each round every contender once in turn
   (:mod:`bench.measure`). Against the fast upstream also: cost by appointments per patient, and a soak.
4. The report (:mod:`bench.report`): the tables and the targets of issue 11, printed and written to
   ``BENCH_OUTPUT`` with the raw figures as JSON.

Knobs: :mod:`bench.config`. Needs ``wrk`` (``apt-get install wrk``); the fast upstream needs
``nginx libnginx-mod-http-echo`` and is left out, with a note, without them.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.config import QUERIES, BenchConfig, Contender, Query, from_environment
from bench.contenders import answer, request_for, start_contender
from bench.load import write_script, wrk_available
from bench.measure import Sample, Upstream, median, progress, run_once
from bench.procs import Server, memory_kib
from bench.report import Machine, Row, render
from bench.scaling import ScalingRow, scaling_query, scaling_rows
from bench.upstream import FastUpstream, Sandbox, nginx_available, record_answers, start_fast_upstream, start_sandbox

SOAK_SEGMENTS = 8
SOAK_CLIENTS = 10


def main() -> int:
    config = from_environment()
    if not wrk_available():
        print("make bench needs wrk: apt-get install -y wrk", file=sys.stderr)
        return 2
    started, machine = time.time(), Machine.now()
    notes = [f"Code: {_commit()}."]
    workdir = Path(tempfile.mkdtemp(prefix="patientoverblik-bench-"))
    workdir.chmod(0o755)  # nginx's workers run as an unprivileged user when it is started as root
    rows: list[Row] = []
    extra: dict[str, object] = {}
    print(f"bench: {config}\nworking files: {workdir}", flush=True)
    sandbox = start_sandbox(workdir, config.latency_ms, config.patients, config.scaling, sys.executable)
    try:
        tokens = {name: sandbox.token(q.claims) for name, q in QUERIES.items()}
        for count, cpr in sandbox.scaling.items():
            tokens[f"scaling {count}"] = sandbox.token({"actor_kind": "citizen", "cpr": cpr})
        progress("sandbox started")
        for name in config.upstreams:
            if name == "fast" and not nginx_available():
                notes.append("Fast upstream left out: `apt-get install -y nginx libnginx-mod-http-echo`.")
                continue
            phase = Phase(name, config, sandbox, tokens, workdir / name)
            rows += phase.run(extra)
    finally:
        sandbox.server.stop()
    command = " ".join([*(f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))])
    report = render(
        config, rows, extra, machine.until_now(), f"{command} make bench".strip(), notes, time.time() - started
    )
    print(report)
    config.output.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (config.output / f"report-{stamp}.md").write_text(report, encoding="utf-8")
    raw = {"config": str(config), "rows": [asdict(r) for r in rows], "extra": extra, "machine": asdict(machine)}
    (config.output / f"figures-{stamp}.json").write_text(json.dumps(raw, indent=1, default=_plain), encoding="utf-8")
    print(f"written: {config.output}/report-{stamp}.md and figures-{stamp}.json")
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(workdir)  # on a failure it stays, with every server's log
    return 0


def _commit() -> str:
    """The measured commit, ``+changes`` when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)  # noqa: S607
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" +changes" if dirty.stdout.strip() else "")


def _plain(value: object) -> object:
    return asdict(value) if isinstance(value, ScalingRow) else str(value)


@dataclass
class Phase:
    """Every case against one upstream: ``fast`` (nginx replaying the sandbox) or ``sandbox``."""

    name: str
    config: BenchConfig
    sandbox: Sandbox
    tokens: dict[str, str]
    workdir: Path
    servers: dict[str, Server] = field(default_factory=dict)

    def run(self, extra: dict[str, object]) -> list[Row]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cases = self.config.cases(self.name)
        fast = self.record_and_serve() if self.name == "fast" else None
        upstream: Upstream = fast or self.sandbox
        url: Callable[[str], str] = fast.url if fast else self.sandbox.url
        upstream_pid = (fast or self.sandbox).server.pid
        contenders = list({c.key: c for _, _, among in cases for c in among}.values())
        try:
            self.start(contenders, url)
            self.check(cases)
            progress(f"{self.name}: {len(contenders)} contenders started and checked")
            rows = [row for case in cases for row in self.measure(*case, upstream, upstream_pid)]
            if fast is not None:
                gateway = contenders[0]
                server = self.servers[gateway.key]
                extra["scaling"] = scaling_rows(self.config, server, upstream, self.tokens, self.sandbox)
                extra["soak"] = self.soak(gateway, upstream, upstream_pid)
            return rows
        finally:
            for server in self.servers.values():
                server.stop()
            if fast is not None:
                fast.server.stop()

    def start(self, contenders: list[Contender], url: Callable[[str], str]) -> None:
        """Start every contender at once; each that started is in ``servers`` (to be stopped) even if one fails."""
        with ThreadPoolExecutor(len(contenders)) as pool:
            futures = {
                c.key: pool.submit(start_contender, c, self.config, url, self.sandbox.url, self.workdir, sys.executable)
                for c in contenders
            }
        failures = []
        for key, future in futures.items():
            try:
                self.servers[key] = future.result()
            except RuntimeError as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def database(self, contender: Contender) -> Path:
        return self.workdir / f"{contender.key}.db"

    def script(self, contender: Contender, query: Query) -> Path:
        return self.workdir / f"{contender.key}-{query.name}.lua"

    def record_and_serve(self) -> FastUpstream:
        """Every query once through a gateway over the sandbox; the answers recorded and served by nginx."""
        recorder = Contender("recorder", "gateway", "shipped")
        server = start_contender(
            recorder, self.config, self.sandbox.url, self.sandbox.url, self.workdir, sys.executable
        )
        try:
            self.sandbox.clear()
            for name, query in QUERIES.items():
                answer(server, recorder, query, self.tokens[name])
            for count, cpr in self.sandbox.scaling.items():
                answer(server, recorder, scaling_query(cpr), self.tokens[f"scaling {count}"])
            answers = record_answers(self.sandbox)
        finally:
            server.stop()
        progress(f"recorded {len(answers)} answers for the fast upstream")
        return start_fast_upstream(self.workdir / "nginx", answers, self.sandbox.url, self.config.latency_ms)

    def check(self, cases: list[tuple[Query, int, list[Contender]]]) -> None:
        """Each (contender, query) answers once without errors, the peer as the gateway; writes the wrk scripts."""
        overviews: dict[str, object] = {}
        for query, _, among in cases:
            for contender in among:
                if self.script(contender, query).exists():
                    continue
                data = answer(self.servers[contender.key], contender, query, self.tokens[query.name])
                if query.name == "overview":
                    overviews[contender.label] = data
                method, _, headers, body = request_for(contender, query, self.tokens[query.name])
                write_script(self.script(contender, query), method, headers, body)
        if len({json.dumps(data, sort_keys=True) for data in overviews.values()}) > 1:
            raise RuntimeError(f"the contenders' overviews differ: {overviews}")

    def measure(
        self, query: Query, clients: int, among: list[Contender], upstream: Upstream, upstream_pid: int
    ) -> list[Row]:
        """``rounds`` rounds, each running every contender once, starting with the next one each round."""
        samples: dict[str, list[Sample]] = {c.key: [] for c in among}
        for round_ in range(self.config.rounds):
            for contender in among[round_ % len(among) :] + among[: round_ % len(among)]:
                server = self.servers[contender.key]
                url = server.url + request_for(contender, query, "")[1]
                sample = run_once(
                    server, self.database(contender), upstream, upstream_pid, url, self.script(contender, query),
                    clients, query.weight * self.config.duration_s,
                )  # fmt: skip
                samples[contender.key].append(sample)
        rows = [Row(self.name, query.name, c.label, c.key, clients, median(samples[c.key])) for c in among]
        for row in rows:
            progress(row.line())
        return rows

    def soak(self, gateway: Contender, upstream: Upstream, upstream_pid: int) -> list[tuple[float, float]]:
        """The overview and the appointments in turn at 10 clients for ``soak_s``: (seconds, RSS MiB) after each."""
        server, series, elapsed = self.servers[gateway.key], [], 0.0
        length = self.config.soak_s / SOAK_SEGMENTS
        for segment in range(SOAK_SEGMENTS):
            query = QUERIES["overview" if segment % 2 == 0 else "appointments"]
            url, script = server.url + "/graphql", self.script(gateway, query)
            run_once(server, self.database(gateway), upstream, upstream_pid, url, script, SOAK_CLIENTS, length)
            elapsed += length
            series.append((elapsed, memory_kib(server.pid, "VmRSS") / 1024))
        return series


if __name__ == "__main__":
    sys.exit(main())
