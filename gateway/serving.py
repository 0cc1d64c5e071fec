"""Serving the gateway with uvicorn: ``TCP_NODELAY`` on every accepted connection, and no forwarded
headers read but the gateway's own way.

asyncio only sets ``TCP_NODELAY`` on a connection accepted from a listening socket created with
``proto=IPPROTO_TCP``. uvicorn's own ``bind_socket`` (used with ``--workers``, ``--reload`` and
``--fd``) creates it with protocol 0, so without help the accepted connections keep Nagle's
algorithm: an answer written as headers then body waits for the client's delayed ACK (~40 ms on
Linux) on every kept-alive request. :class:`NoDelayHTTPProtocol` sets the option on each connection
as it is made, whoever bound the socket.

uvicorn also trusts ``X-Forwarded-For`` from 127.0.0.1 by default (``--proxy-headers``,
``--forwarded-allow-ips``, ``FORWARDED_ALLOW_IPS``): any local process, or a proxy on the host that
passes the header on, could then choose the address a caller is counted under. The gateway reads
forwarded headers only from ``PATIENTOVERBLIK_TRUSTED_PROXIES`` (:mod:`gateway.app`), so every way
``patientoverblik`` starts uvicorn turns uvicorn's own reading off, and :class:`NoDelayHTTPProtocol`
takes it out of the way when uvicorn was started by hand without ``--no-proxy-headers``. An operator
running uvicorn directly passes ``--http gateway.serving:NoDelayHTTPProtocol``.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.logging import log_config
from gateway.settings_subscriptions import SubscriptionSettings
from gateway.settings_telemetry import LogSettings

APP_FACTORY = "gateway.app:create_app"
"""The composition root as an import string, for uvicorn's worker processes."""


def set_nodelay(sock: socket.socket | None) -> None:
    """Turn Nagle's algorithm off on a TCP socket (no-op for Unix sockets or a missing socket)."""
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTPProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, setting ``TCP_NODELAY`` on the connection before anything is sent, and
    serving the app without uvicorn's forwarded-header rewriting (the gateway does its own)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.app, ProxyHeadersMiddleware):  # uvicorn's --proxy-headers, on by default
            self.app = self.app.app

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport.get_extra_info("socket"))
        super().connection_made(transport)


def uvicorn_options(
    host: str, port: int, workers: int = 1, log: LogSettings | None = None, ws_max_size: int | None = None
) -> dict[str, Any]:
    """The options every way of starting the gateway gives uvicorn (besides the app).

    Logging is the gateway's (:func:`gateway.logging.log_config`): uvicorn's server and access lines
    and the gateway's own go through one filtered handler in the format of ``log``. WebSocket messages
    are bounded by ``ws_max_size`` bytes (``SUBSCRIPTIONS__MAX_MESSAGE_BYTES``) already where uvicorn
    reads them: a larger one closes the connection with 1009 (the app checks again, ADR 0023).
    """
    log = log or LogSettings()
    return {
        "ws_max_size": ws_max_size or SubscriptionSettings().max_message_bytes,
        "host": host,
        "port": port,
        "workers": workers,
        "factory": workers > 1,
        "http": NoDelayHTTPProtocol,
        "proxy_headers": False,  # the gateway reads forwarded headers itself, from its trusted proxies only
        "log_config": log_config(log),
        "log_level": log.level.value.lower(),
    }


def serve(
    app: Any, host: str, port: int, workers: int = 1, log: LogSettings | None = None, ws_max_size: int | None = None
) -> None:
    """Run uvicorn in the foreground: ``app`` is the ASGI app, or :data:`APP_FACTORY` with ``workers > 1``.

    With several workers each process builds its own app from the environment (``load_settings()``).
    """
    uvicorn.run(app if workers == 1 else APP_FACTORY, **uvicorn_options(host, port, workers, log, ws_max_size))
