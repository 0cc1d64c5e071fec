"""The child processes of long-running commands (``sandbox``, ``demo``): they never outlive the command.

A command that starts a child (the sandbox, ``python -m sandbox``) stops it however the command ends
(ADR 0024):

- stopped by SIGTERM or SIGINT: the signal ends the command's wait (SIGTERM as ``SystemExit(143)``,
  SIGINT as ``KeyboardInterrupt``), and on the way out :func:`stop_child` sends the child SIGTERM and,
  if it has not ended within :data:`STOP_WAIT_S`, SIGKILL;
- killed outright (SIGKILL, a crash): on Linux the child asked the kernel for SIGTERM when its parent
  dies (``prctl(PR_SET_PDEATHSIG)``); everywhere, the sandbox also watches its parent's pid
  (``--parent-pid``) and stops when it is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_WAIT_S = 10.0
"""How long a child gets to stop after SIGTERM before it is killed."""
_PR_SET_PDEATHSIG = 1


def start_child(args: list[str]) -> subprocess.Popen[bytes]:
    """Start ``args`` as a child that gets SIGTERM when this process dies (Linux; elsewhere it must watch)."""
    return subprocess.Popen(args, preexec_fn=_dies_with(os.getpid()))  # noqa: S603 - our own interpreter


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """Stop ``child`` if it still runs: SIGTERM, then SIGKILL after :data:`STOP_WAIT_S`; wait for it."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run_child(args: list[str]) -> int:
    """Run ``args`` until it ends, or until this command is stopped (then stop it too); its exit status."""
    child = start_child(args)
    try:
        with stopped_by_sigterm():
            return child.wait()
    finally:
        stop_child(child)


@contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(143)`` in the main thread, so ``finally`` blocks run
    (Python's default would end the process at once); SIGINT already raises ``KeyboardInterrupt``."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dies_with(parent: int) -> Callable[[], None] | None:
    """What the child runs before it starts, on Linux: ask for SIGTERM when ``parent`` dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's prctl among them

    def ask() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)

    return ask
