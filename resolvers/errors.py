"""Errors about values the caller sent, and the dates a date argument may name.

Bounds on arguments are declared in :mod:`resolvers.bounds` and checked before execution; a resolver
raises :class:`InvalidArgument` only for a refusal that needs a source's answer (no such block). The
gateway codes it ``BAD_USER_INPUT`` with ``extensions.argument``.
"""

from __future__ import annotations

from datetime import date

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
"""The dates a date argument may name: far from the ends of Python's calendar (years 1 to 9999), so no
date arithmetic on an argument can overflow, and wide enough for every patient's data."""


class ValueRefused(ValueError):
    """A scalar refused a value it was given; the message says what the scalar takes, never the value.

    The gateway passes only this message of a scalar's on to the client (``gateway.input_errors``)."""


class InvalidArgument(ValueError):
    """An argument the gateway cannot use; the message names the argument, never its value."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
