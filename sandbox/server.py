"""Run every simulated source as a real HTTP server on loopback.

``run(...)`` serves them until stopped (``python -m sandbox``, ``patientoverblik sandbox``): SIGTERM,
SIGINT or SIGHUP (unless ignored: ``nohup``) stops every server at once (uvicorn's own signal
handling, one server at a time, is off), and so does the death of ``parent_pid``, the command that
started it, when given.
``start_in_thread(...)`` starts them on free ports in a background thread and returns a handle with
each service's URL and its :class:`~sandbox.control.Controlled` wrapper (request recorder, fault
knobs), for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import uvicorn
from starlette.applications import Starlette

from sandbox import (
    appointments,
    consent,
    cpr,
    dds,
    fuldmagt,
    minlog,
    plans,
    registers,
    sor,
    stamkort,
    treatment_relation,
    yderregister,
)
from sandbox.clinical import APPOINTMENT_ENDPOINTS, PLAN_ENDPOINTS
from sandbox.control import Controlled, Faults
from sandbox.issuer import Issuer
from sandbox.issuer import create_app as create_issuer_app
from sandbox.population import Population

SOURCE_APPS: dict[str, Callable[[Population], Starlette]] = {
    "cpr": cpr.create_app,
    "yderregister": yderregister.create_app,
    "stamkort": stamkort.create_app,
    "registers": registers.create_app,
    "consent": consent.create_app,
    "treatment_relation": treatment_relation.create_app,
    "sor": sor.create_app,
    "fuldmagt": fuldmagt.create_app,
    "minlog": minlog.create_app,
    **{
        e.name: (dds.create_app if e.format == "apd-mhd" else partial(appointments.create_app, endpoint=e.name))
        for e in APPOINTMENT_ENDPOINTS
    },
    **{e.name: partial(plans.create_app, endpoint=e.name) for e in PLAN_ENDPOINTS},
}
DEFAULT_PORTS = {
    "issuer": 8100,
    "cpr": 8101,
    "yderregister": 8102,
    "stamkort": 8103,
    "registers": 8104,
    "consent": 8105,
    "treatment_relation": 8106,
    "sor": 8107,
    "minlog": 8108,
    "fuldmagt": 8109,
    "region-syddanmark": 8110,
    "region-nordjylland": 8111,
    "municipality-odense": 8112,
    "municipality-aalborg": 8113,
    "gp": 8114,
    "dds": 8115,
    "plans-gp": 8120,
    "plans-municipality": 8121,
    "plans-hospital": 8122,
}


PARENT_CHECK_S = 0.2
"""How often a sandbox started by a command checks that the command still runs."""


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the sandbox: it stops all its servers together."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


@dataclass
class Sandbox:
    """The simulated services of one population, bound to sockets."""

    population: Population
    host: str
    sockets: dict[str, socket.socket]
    controls: dict[str, Controlled] = field(default_factory=dict)
    issuer: Issuer | None = None
    running: list[uvicorn.Server] = field(default_factory=list)
    stopping: bool = False

    def url(self, name: str) -> str:
        port = self.sockets[name].getsockname()[1]
        return f"http://{self.host}:{port}"

    def servers(
        self, faults: Faults | None = None, per_source: dict[str, Faults] | None = None
    ) -> list[uvicorn.Server]:
        """One uvicorn server per service, each wrapped in the recorder and fault knobs.

        ``faults`` applies to every source; ``per_source`` replaces it for the services it names. The
        issuer gets no faults unless ``per_source`` names it.
        """
        issuer_app, self.issuer = create_issuer_app(self.population, self.url("issuer"))
        issuer_knobs = (per_source or {}).get("issuer")
        issuer_faults = Faults(**vars(issuer_knobs)) if issuer_knobs else None
        self.controls["issuer"] = Controlled(issuer_app, "issuer", issuer_faults)
        apps: dict[str, object] = {"issuer": self.controls["issuer"]}
        for name, factory in SOURCE_APPS.items():
            chosen = (per_source or {}).get(name, faults)
            knobs = Faults(**vars(chosen)) if chosen else Faults()
            self.controls[name] = Controlled(
                factory(self.population), name, knobs, seed=self.population.seed, tokens=self.issuer.upstream_tokens
            )
            apps[name] = self.controls[name]
        return [
            _Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))  # type: ignore[arg-type]
            for app in apps.values()
        ]

    async def serve(
        self,
        faults: Faults | None = None,
        started: threading.Event | None = None,
        per_source: dict[str, Faults] | None = None,
    ) -> None:
        servers = self.servers(faults, per_source)
        names = list(self.sockets)
        tasks = [asyncio.create_task(s.serve(sockets=[self.sockets[n]])) for s, n in zip(servers, names, strict=True)]
        self.running = servers
        if self.stopping:
            self.stop()
        while not all(s.started for s in servers):  # noqa: ASYNC110 - uvicorn exposes no started event
            await asyncio.sleep(0.01)
        if started is not None:
            started.set()
        await asyncio.gather(*tasks)

    def stop(self) -> None:
        """Let every server finish (also when called before they started)."""
        self.stopping = True
        for server in self.running:
            server.should_exit = True


def bind(population: Population, host: str = "127.0.0.1", ports: dict[str, int] | None = None) -> Sandbox:
    """Bind every service's socket (port 0 picks a free port).

    The sockets are made with ``IPPROTO_TCP`` so that asyncio sets ``TCP_NODELAY`` on every accepted
    connection: with protocol 0 it does not, and each answer on a kept-alive connection waits ~40 ms
    for the client's delayed ACK between its headers and its body (Nagle's algorithm).
    """
    sockets: dict[str, socket.socket] = {}
    for name in ["issuer", *SOURCE_APPS]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, (ports or {}).get(name, 0)))
        sock.listen(128)
        sockets[name] = sock
    return Sandbox(population, host, sockets)


def run(
    population: Population,
    host: str,
    ports: dict[str, int],
    faults: Faults,
    per_source: dict[str, Faults] | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve the sandbox in the foreground until SIGTERM, SIGINT, SIGHUP, or ``parent_pid`` is gone."""
    sandbox = bind(population, host, ports)
    try:
        asyncio.run(_serve_until_stopped(sandbox, faults, per_source, parent_pid))
    finally:
        for sock in sandbox.sockets.values():
            sock.close()


async def _serve_until_stopped(
    sandbox: Sandbox, faults: Faults, per_source: dict[str, Faults] | None, parent_pid: int | None
) -> None:
    loop = asyncio.get_running_loop()
    # SIGTERM and SIGINT whatever their inherited disposition; SIGHUP unless ignored on purpose (nohup).
    hangup = () if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN else (signal.SIGHUP,)
    for stop_signal in (signal.SIGTERM, signal.SIGINT, *hangup):
        loop.add_signal_handler(stop_signal, sandbox.stop)
    watchdog = asyncio.create_task(_stop_without(parent_pid, sandbox)) if parent_pid is not None else None
    try:
        await sandbox.serve(faults, per_source=per_source)
    finally:
        if watchdog is not None:
            watchdog.cancel()


async def _stop_without(parent_pid: int, sandbox: Sandbox) -> None:
    """Stop the sandbox once the process that started it is gone (it was killed, or died without stopping us)."""
    while os.getppid() == parent_pid:  # noqa: ASYNC110 - no event tells that a parent died
        await asyncio.sleep(PARENT_CHECK_S)
    sandbox.stop()


@dataclass
class ThreadedSandbox:
    """A sandbox running in a background thread."""

    sandbox: Sandbox
    thread: threading.Thread

    def url(self, name: str) -> str:
        return self.sandbox.url(name)

    def control(self, name: str) -> Controlled:
        return self.sandbox.controls[name]

    def stop(self) -> None:
        self.sandbox.stop()
        self.thread.join(timeout=10)
        for sock in self.sandbox.sockets.values():
            sock.close()


def start_in_thread(population: Population, host: str = "127.0.0.1") -> ThreadedSandbox:
    """Start every service on a free loopback port in a background thread."""
    sandbox = bind(population, host)
    started = threading.Event()
    thread = threading.Thread(target=lambda: asyncio.run(sandbox.serve(started=started)), daemon=True)
    thread.start()
    if not started.wait(timeout=20):
        raise RuntimeError("sandbox did not start")
    return ThreadedSandbox(sandbox, thread)
