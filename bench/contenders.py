"""Starting the contenders as real server processes (uvicorn), pointed at one upstream.

Both are started the same way: ``python -m uvicorn --factory <app> --host 127.0.0.1 --port <free>``
with access logs off, so that neither pays for something the other does not. The gateway reads
``PATIENTOVERBLIK_*`` variables (its own settings, nothing bench-only): every source and endpoint at
the upstream, the token issuer and Min Log at the sandbox (Min Log's batch answers echo what was sent,
so they cannot be replayed), its access records in a SQLite file of its own. Every source gets a
10 s deadline (the appointment endpoints 30 s, so that 40 pages of a patient with 10,000 appointments
fit), so that an overloaded upstream shows as latency rather than as errors; the peer gets the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.config import GATEWAY_TRANSPORT_VALUES, BenchConfig, Contender, Query
from bench.procs import Server, free_port, start
from gateway.settings import SANDBOX_APPOINTMENT_ENDPOINTS, SANDBOX_PLAN_ENDPOINTS

SINGLE_SOURCES = ("cpr", "yderregister", "stamkort", "registers", "consent", "treatment_relation", "sor", "fuldmagt")
TIMEOUT_S = 10.0
SEARCH_TIMEOUT_S = 30.0
PEER_SOURCES = ("cpr", "yderregister", "stamkort", "registers")


def gateway_environment(url: Callable[[str], str], sandbox: Callable[[str], str], database: Path) -> dict[str, str]:
    """The gateway's settings: data sources at ``url(name)``, issuer and Min Log at ``sandbox(name)``."""
    env = {
        "PATIENTOVERBLIK_DATABASE_URL": f"sqlite:///{database}",
        "PATIENTOVERBLIK_TOKEN_ISSUER": sandbox("issuer"),
        "PATIENTOVERBLIK_TOKEN_JWKS_URL": sandbox("issuer") + "/.well-known/jwks.json",
        "PATIENTOVERBLIK_GRAPHIQL": "false",
        "PATIENTOVERBLIK_MINLOG__BASE_URL": sandbox("minlog"),
        # the benchmark measures throughput, not the rate limits (ADR 0018)
        "PATIENTOVERBLIK_RATE_LIMIT_REQUESTS": str(10**9),
        "PATIENTOVERBLIK_RATE_LIMIT_COST": str(10**12),
        # overload shows as latency, not as sections cut by the request's deadline (ADR 0024)
        "PATIENTOVERBLIK_DEADLINE__REQUEST_S": str(SEARCH_TIMEOUT_S),
    }
    for name in SINGLE_SOURCES:
        env[f"PATIENTOVERBLIK_{name.upper()}__BASE_URL"] = url(name)
        env[f"PATIENTOVERBLIK_{name.upper()}__TIMEOUT_S"] = str(TIMEOUT_S)
    appointments = [
        {"name": n, "base_url": url(n), "format": f, "kind": k, "organisation_sor": o, "timeout_s": SEARCH_TIMEOUT_S}
        for n, f, k, o in SANDBOX_APPOINTMENT_ENDPOINTS
    ]
    plans = [{"name": n, "base_url": url(n), "kind": k, "timeout_s": TIMEOUT_S} for n, k in SANDBOX_PLAN_ENDPOINTS]
    env["PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS"] = json.dumps(appointments)
    env["PATIENTOVERBLIK_PLAN_ENDPOINTS"] = json.dumps(plans)
    return env


def peer_environment(
    url: Callable[[str], str], sandbox: Callable[[str], str], database: Path, transport: str
) -> dict[str, str]:
    """The peer's ``PEER_*`` variables (:mod:`bench.peer`)."""
    return {
        "PEER_UPSTREAMS": json.dumps({name: url(name) for name in PEER_SOURCES}),
        "PEER_ISSUER": sandbox("issuer"),
        "PEER_DATABASE": str(database),
        "PEER_TRANSPORT": transport,
        "PEER_TIMEOUT_S": str(TIMEOUT_S),
    }


def start_contender(
    contender: Contender,
    config: BenchConfig,
    url: Callable[[str], str],
    sandbox: Callable[[str], str],
    workdir: Path,
    python: str,
) -> Server:
    """``contender`` on a free port, ready when it answers HTTP."""
    port = free_port()
    database = workdir / f"{contender.key}.db"
    if contender.kind == "gateway":
        app, env = "gateway.app:create_app", gateway_environment(url, sandbox, database)
        if config.transport_variable and contender.transport != "shipped":
            env[config.transport_variable] = GATEWAY_TRANSPORT_VALUES[contender.transport]
    else:
        app, env = "bench.peer:app_from_environment", peer_environment(url, sandbox, database, contender.transport)
    args = [python, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--log-level", "warning", "--no-access-log", "--workers", str(contender.workers)]
    if contender.kind == "gateway":
        args += ["--http", "gateway.serving:NoDelayHTTPProtocol"]  # TCP_NODELAY on uvicorn's own socket (ADR 0013)
    base = f"http://127.0.0.1:{port}"
    return start(contender.label, args, base, workdir / f"{contender.key}.log", env=env)


def request_for(contender: Contender, query: Query, token: str) -> tuple[str, str, dict[str, str], str]:
    """(method, path, headers, body) of one request of ``query`` to ``contender``."""
    headers = {"authorization": f"Bearer {token}"}
    if contender.kind == "peer":
        assert query.peer_path is not None
        return "GET", query.peer_path, headers, ""
    body = json.dumps({"query": query.graphql})
    return "POST", "/graphql", {**headers, "content-type": "application/json"}, body


def answer(server: Server, contender: Contender, query: Query, token: str) -> dict[str, Any]:
    """One request of ``query``; its ``data``, or RuntimeError when it failed or carried errors."""
    method, path, headers, body = request_for(contender, query, token)
    response = httpx.request(method, server.url + path, headers=headers, content=body or None, timeout=120)
    parsed: dict[str, Any] = response.json() if response.headers.get("content-type", "").startswith("app") else {}
    if response.status_code != 200 or parsed.get("errors") or "data" not in parsed:
        raise RuntimeError(f"{contender.label}, {query.name}: HTTP {response.status_code} {response.text[:500]}")
    data: dict[str, Any] = parsed["data"]
    return data
