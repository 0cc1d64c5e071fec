"""Logging that never carries personal data.

httpx logs every request URL at INFO and httpcore traces at DEBUG; upstream URLs carry CPR numbers
in their query strings, so both are held at WARNING. The gateway's own log lines name error class,
code, source and path only (:mod:`gateway.errors`).
"""

from __future__ import annotations

import logging

_CHATTY = ("httpx", "httpcore", "strawberry.execution")


def quiet_transport_loggers() -> None:
    """Keep loggers that print request URLs or bodies at WARNING or above."""
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
