"""The child processes of long-running commands (``sandbox``, ``demo``): they never outlive the command.

A command that starts a child (the sandbox, ``python -m sandbox``) stops it however the command ends
(ADR 0024):

- stopped by SIGTERM, SIGINT or SIGHUP: :func:`stopped_by_signals` installs its own handlers, so each
  ends the command's wait (``SystemExit(128 + signal)``; SIGHUP as SIGTERM, so that a server the
  command runs stops gracefully on it too), and on the way out :func:`stop_child` sends the child
  SIGTERM and, if it has not ended within :data:`STOP_WAIT_S`, SIGKILL. SIGTERM and SIGINT are
  handled whatever the command inherited: a job a script starts with ``&`` inherits SIGINT
  *ignored* (POSIX shells do that for a background job without job control), and Python would leave
  it so. SIGHUP inherited ignored is left ignored: that is ``nohup``, asked for on purpose. The child
  starts with SIGTERM and SIGINT at their defaults, whatever the command had;
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
from typing import Final

STOP_WAIT_S = 10.0
"""How long a child gets to stop after SIGTERM before it is killed."""
_PR_SET_PDEATHSIG = 1


def start_child(args: list[str]) -> subprocess.Popen[bytes]:
    """Start ``args`` as a child that SIGTERM and SIGINT stop, and that gets SIGTERM when this process dies
    (Linux; elsewhere it must watch)."""
    return subprocess.Popen(args, preexec_fn=_before_start(os.getpid()))  # noqa: S603 - our own interpreter


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
        with stopped_by_signals():
            return child.wait()
    finally:
        stop_child(child)


ALWAYS_HANDLED: Final = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop a command (and its child) whatever their disposition when it started; SIGHUP
stops it too unless it started ignored (``nohup``)."""


def stop_signals() -> tuple[signal.Signals, ...]:
    """The signals that stop this command: :data:`ALWAYS_HANDLED`, and SIGHUP unless it is ignored."""
    hangup = () if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN else (signal.SIGHUP,)
    return (*ALWAYS_HANDLED, *hangup)


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise ``SystemExit(128 + signal)`` in the main thread, so
    ``finally`` blocks run, whether they were ignored or at Python's default; SIGHUP, unless ignored
    (``nohup``), does what SIGTERM does (a uvicorn serving inside the block handles SIGTERM and SIGINT
    itself, stops gracefully, and raises them again when it is done)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            signal.raise_signal(signal.SIGTERM)
            return
        raise SystemExit(128 + signum)

    previous = {stop_signal: signal.signal(stop_signal, stop) for stop_signal in stop_signals()}
    try:
        yield
    finally:
        for stop_signal, handler in previous.items():
            signal.signal(stop_signal, handler)


def _before_start(parent: int) -> Callable[[], None]:
    """What the child runs before it starts: SIGTERM and SIGINT at their defaults, and on Linux a request
    for SIGTERM when ``parent`` dies."""
    dies_with = _dies_with(parent)

    def prepare() -> None:
        for stop_signal in ALWAYS_HANDLED:
            signal.signal(stop_signal, signal.SIG_DFL)
        if dies_with is not None:
            dies_with()

    return prepare


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
