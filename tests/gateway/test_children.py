"""``patientoverblik sandbox`` and ``demo`` never leave their child serving, however they are stopped (ADR 0024).

The command runs in a subprocess on free ports; the test stops it by its PID with each stopping signal,
the command having started with that signal at Python's default *and* ignored (a job a script starts
with ``&`` inherits SIGINT ignored): the test sets the disposition the command starts with, so it does
not depend on its own. The sandbox's ports must all close within a bound; the demo's child must end.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sandbox.server import DEFAULT_PORTS

ISSUER = DEFAULT_PORTS["issuer"]
OFFSETS = sorted(port - ISSUER for port in DEFAULT_PORTS.values())
CLOSED_WITHIN_S = 20.0
"""Generous: the sandbox stops its servers at once; a slow machine may take a few seconds."""


def free_base_port() -> int:
    """A base port whose every sandbox port (the issuer's and the sources' offsets) is free now."""
    for _ in range(100):
        base = random.randrange(20_000, 60_000)
        sockets = []
        try:
            for offset in OFFSETS:
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise RuntimeError("no free range of ports")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.1)
    return False


class Disposition:
    """How the command starts with each catchable stopping signal: Python's default, or ignored."""

    DEFAULT = signal.SIG_DFL
    IGNORED = signal.SIG_IGN


STOPS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
CASES = [
    *[
        pytest.param(stop, disposition, id=f"{stop.name.lower()}-{name}")
        for stop in STOPS
        for name, disposition in (("default", Disposition.DEFAULT), ("ignored", Disposition.IGNORED))
        if (stop, name) != (signal.SIGHUP, "ignored")
    ],
    pytest.param(signal.SIGKILL, Disposition.DEFAULT, id="sigkill"),
]
"""Every stopping signal, at each disposition the command may start with. SIGHUP ignored is ``nohup``:
:func:`test_a_command_started_with_nohup_keeps_running_on_sighup`."""
STILL_RUNNING_AFTER_S = 2.0
"""How long a command that must not stop is watched (it would stop in well under a second)."""


def starting_with(disposition: signal.Handlers) -> Callable[[], None]:
    """What the command's process runs before Python starts: every stopping signal set to ``disposition``."""

    def set_dispositions() -> None:
        for stop in STOPS:
            signal.signal(stop, disposition)

    return set_dispositions


def start_sandbox_command(base: int, disposition: signal.Handlers) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from gateway.cli import main; main()",
        "sandbox", "--patients", "5", "--base-port", str(base),
    ]  # fmt: skip
    started = subprocess.Popen(  # noqa: S603 - our own interpreter
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=starting_with(disposition)
    )
    ports = [base + offset for offset in OFFSETS]
    if not wait_for(lambda: all(listening(port) for port in ports), 60):
        started.kill()
        pytest.fail("the sandbox did not start")
    return started


@pytest.mark.parametrize(("stop", "disposition"), CASES)
def test_stopping_the_sandbox_command_by_its_pid_closes_every_port(
    stop: signal.Signals, disposition: signal.Handlers
) -> None:
    base = free_base_port()
    command = start_sandbox_command(base, disposition)
    ports = [base + offset for offset in OFFSETS]

    command.send_signal(stop)

    command.wait(timeout=CLOSED_WITHIN_S)
    assert wait_for(lambda: not any(listening(port) for port in ports), CLOSED_WITHIN_S), [
        port for port in ports if listening(port)
    ]


DEMO = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from gateway import cli, serving

    started = Path(sys.argv[1])
    child_args = [sys.executable, "-c", "import time; time.sleep(600)"]
    cli._sandbox_args = lambda *args: child_args  # the sandbox's stand-in: a child that runs until stopped
    cli._wait_for_sandbox = lambda child: (started.write_text(str(child.pid)), {})[1]
    cli._print_welcome = lambda port, listing: None
    sys.argv = ["patientoverblik", "demo", "--port", "0"]
    cli.main()
    """
)
"""``patientoverblik demo`` with its real gateway on a free port and a stand-in child: the sandbox's ports
are fixed (8100-8122), so the test does not start the real one; the child writes where the test reads."""


def process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent) has stopped too.
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.parametrize(
    ("when", "stop", "disposition"),
    [
        *[pytest.param("serving", *case.values, id=f"serving-{case.id}") for case in CASES],
        # While it waits for the sandbox the demo is in the sandbox command's case, tested above with each signal.
        pytest.param("starting", signal.SIGINT, Disposition.IGNORED, id="starting-sigint-ignored"),
    ],
)
def test_stopping_the_demo_command_by_its_pid_stops_its_child(
    tmp_path: Path, stop: signal.Signals, disposition: signal.Handlers, when: str
) -> None:
    started, log = tmp_path / "child.pid", tmp_path / "demo.log"
    env = {**os.environ, "PATIENTOVERBLIK_DATABASE_URL": f"sqlite:///{tmp_path / 'access.db'}"}
    with log.open("wb") as stderr:
        command = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", DEMO, str(started)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            preexec_fn=starting_with(disposition),
        )
    try:
        assert wait_for(lambda: started.exists() and started.read_text(), 60), "the demo did not start its child"
        child = int(started.read_text())
        if when == "serving":
            assert wait_for(lambda: "Uvicorn running" in log.read_text(), 60), "the demo's gateway did not start"

        command.send_signal(stop)

        command.wait(timeout=CLOSED_WITHIN_S)
        assert wait_for(lambda: not process_running(child), CLOSED_WITHIN_S)
    finally:
        command.kill()
        command.wait()


def test_a_command_started_with_nohup_keeps_running_on_sighup() -> None:
    base = free_base_port()
    command = start_sandbox_command(base, Disposition.IGNORED)
    ports = [base + offset for offset in OFFSETS]
    try:
        command.send_signal(signal.SIGHUP)

        with pytest.raises(subprocess.TimeoutExpired):
            command.wait(timeout=STILL_RUNNING_AFTER_S)
        assert all(listening(port) for port in ports)
        command.send_signal(signal.SIGINT)  # ignored too, as a script's `nohup … &` leaves it: still stops it
        command.wait(timeout=CLOSED_WITHIN_S)
        assert wait_for(lambda: not any(listening(port) for port in ports), CLOSED_WITHIN_S)
    finally:
        command.kill()
        command.wait()
