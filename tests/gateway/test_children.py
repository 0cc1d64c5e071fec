"""``patientoverblik sandbox`` never leaves its child serving, however it is stopped (ADR 0024).

The command runs in a subprocess on free ports (``--base-port``); the test stops it by its PID and
checks that every one of the sandbox's ports is closed within a bound.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import time

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


def start_sandbox_command(base: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-c", "from gateway.cli import main; main()",
        "sandbox", "--patients", "5", "--base-port", str(base),
    ]  # fmt: skip
    started = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    ports = [base + offset for offset in OFFSETS]
    if not wait_for(lambda: all(listening(port) for port in ports), 60):
        started.kill()
        pytest.fail("the sandbox did not start")
    return started


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["sigterm", "sigint", "sigkill"])
def test_stopping_the_sandbox_command_by_its_pid_closes_every_port(stop: signal.Signals) -> None:
    base = free_base_port()
    command = start_sandbox_command(base)
    ports = [base + offset for offset in OFFSETS]

    command.send_signal(stop)

    command.wait(timeout=CLOSED_WITHIN_S)
    assert wait_for(lambda: not any(listening(port) for port in ports), CLOSED_WITHIN_S), [
        port for port in ports if listening(port)
    ]
