"""The composition root: ``create_app`` builds every concrete object of the gateway.

``uvicorn --factory gateway.app:create_app --http gateway.serving:NoDelayHTTPProtocol`` reads settings
from the environment (the protocol sets ``TCP_NODELAY`` on accepted connections and leaves forwarded
headers to the gateway, which reads them only from ``PATIENTOVERBLIK_TRUSTED_PROXIES``: ``gateway/serving.py``;
:func:`gateway.config.load_settings` raises :class:`~gateway.config.ConfigError` naming the variable of an
unusable setting). Tests pass ``settings`` and, to replace the network, ``transport`` (an httpx
transport for every source). Every request passes :class:`~gateway.telemetry.RequestTelemetry` (its id,
span and metrics); ``/metrics`` serves Prometheus metrics (:mod:`gateway.metrics`); ``/healthz`` says the
process answers and ``/readyz`` whether it can serve (:mod:`gateway.readiness`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from auth.access_log import AccessLog, open_access_log
from auth.export import Exporter
from auth.export_lease import ExportLease
from auth.facts import FactSources
from auth.gate import AccessServices
from auth.policy import PolicyOptions
from auth.representations import RepresentationSources
from auth.tokens import TokenVerifier
from gateway.clients import load_clients
from gateway.config import load_settings
from gateway.cors import cors_middleware
from gateway.graphiql import DEFAULT_MOUNT_PATH, graphiql_assets_app, graphiql_html
from gateway.headers import SingleHeaders
from gateway.http import BearerAuth, GraphQLApp
from gateway.http_errors import exception_handlers
from gateway.logging import quiet_transport_loggers
from gateway.metrics import OperationNames, metrics_endpoint, web_page_operations
from gateway.rate_limit import RateLimiter
from gateway.readiness import Readiness, readiness_endpoint
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.telemetry import RequestTelemetry
from gateway.tracing import install_tracing
from gateway.web import web_routes
from sources.registry import Sources, build_sources


@dataclass
class Services:
    """What lives as long as the process: adapters, token verifier, access record store."""

    sources: Sources
    verifier: TokenVerifier
    access: AccessServices
    limiter: RateLimiter | None = None
    """Requests and query cost per caller and window (in process, or shared in Redis)."""
    readiness: Readiness | None = None
    """What ``/readyz`` checks (:mod:`gateway.readiness`)."""


def create_app(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    access_log: AccessLog | None = None,
) -> Starlette:
    """The gateway as an ASGI app; :class:`gateway.manifests.ManifestError` when a client's trusted documents fail."""
    settings = settings or load_settings()
    quiet_transport_loggers()
    tracing = install_tracing(settings.tracing)
    limits = settings.limits()
    schema = build_schema(limits)
    clients = load_clients(
        settings.client_specs(),
        schema._schema,
        limits,
        default_budget=settings.default_budget(),
        introspection=settings.introspection,
        replaced_defaults=settings.clients_replaced,
    )
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,
        ide_html=graphiql_html() if settings.graphiql else "",
        limits=limits,
        clients=clients,
        deadline=settings.deadline,
        subscriptions=settings.subscriptions,
        allowed_origins=settings.cors_allow_origins,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sources = build_sources(settings.source_configs(), transport, observer=settings.minlog_observer)
        store = access_log or open_access_log(settings.database_url, settings.access_log.policy())
        verifier = TokenVerifier(
            sources.jwks,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            algorithms=settings.token_algorithms,
            cache=settings.key_cache_policy(),
        )
        facts = FactSources(sources.consent, sources.treatment_relation, sources.sor, sources.cpr, sources.fuldmagt)
        access = AccessServices(
            facts,
            store,
            PolicyOptions(settings.stamkort_blockable),
            settings.client_registrations(),
            RepresentationSources(sources.cpr, sources.fuldmagt),
            settings.federation.patient_keys(),
        )
        limiter = RateLimiter.open(settings.redis_url)
        readiness = Readiness(
            store,
            sources.breaker_states,
            settings.readiness.required_sources,
            cache_s=settings.readiness.cache_s,
        )
        app.state.services = Services(sources, verifier, access, limiter, readiness)
        exporter = None
        if sources.minlog is not None:
            exporter = Exporter(
                store,
                sources.minlog,
                interval_s=settings.minlog_export_interval_s,
                open_grace_s=settings.minlog_open_grace_s,
                lease=ExportLease(store, ttl_s=settings.minlog_export_lease_s),
            )
            exporter.start()
        try:
            yield
        finally:
            if exporter is not None:
                await exporter.stop()
            await verifier.aclose()
            await limiter.aclose()
            await sources.aclose()
            if access_log is None:
                await store.aclose()
            if tracing is not None:
                tracing.force_flush()

    routes: list[BaseRoute] = [
        Route("/graphql", BearerAuth(graphql), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),  # subscriptions; the token comes with connection_init (ADR 0023)
        Route("/healthz", _health),
        Route("/readyz", readiness_endpoint(_readiness)),
    ]
    if settings.metrics.enabled:
        routes.append(Route("/metrics", metrics_endpoint(settings.metrics.allow)))
    if settings.graphiql:
        routes.append(Mount(DEFAULT_MOUNT_PATH, graphiql_assets_app()))
    if settings.web_page:
        routes += web_routes(settings.web_demo_issuer_url, settings.web_client_id)
    names = OperationNames(web_page_operations() | set(settings.metrics.operations))
    telemetry = Middleware(RequestTelemetry, routes=routes, names=names)
    cors = cors_middleware(
        settings.cors_allow_origins, credentials=settings.cors_allow_credentials, max_age_s=settings.cors_max_age_s
    )
    middleware = [*forwarded_headers(settings.trusted_proxies), telemetry, *cors, Middleware(SingleHeaders)]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers=exception_handlers())


def forwarded_headers(proxies: list[IPv4Network | IPv6Network]) -> list[Middleware]:
    """Read ``X-Forwarded-For`` and ``X-Forwarded-Proto`` on connections from ``proxies`` only (uvicorn's
    middleware: the caller's address is the nearest one no trusted proxy added); none: none at all."""
    if not proxies:
        return []
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=[str(network) for network in proxies])]


async def _health(request: Request) -> JSONResponse:
    """Liveness: the process answers (``/readyz`` says whether it can serve)."""
    return JSONResponse({"status": "ok"})


def _readiness(request: Request) -> Readiness | None:
    services: Services | None = getattr(request.app.state, "services", None)
    return services.readiness if services is not None else None
