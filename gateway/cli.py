"""The ``patientoverblik`` command: run the gateway, the sandbox and the demo; mint demo tokens.

The sandbox runs in its own process (``python -m sandbox``); the gateway never imports it. It stops
with the command that started it, however that command ends (:mod:`gateway.children`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from starlette.applications import Starlette

from gateway import serving
from gateway.children import run_child, start_child, stop_child, stopped_by_signals
from gateway.cli_access_log import COMMANDS as ACCESS_LOG_COMMANDS
from gateway.clients import Introspection
from gateway.config import effective_settings, settings_or_exit
from gateway.schema import schema_sdl
from gateway.settings import SANDBOX_PORTS, Settings, sandbox_url
from gateway.settings_federation import KEY_SECRET_VARIABLE, new_key_secret

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Et Samlet Patientoverblik: the GraphQL gateway.")
for _name, _command in ACCESS_LOG_COMMANDS.items():
    app.command(_name)(_command)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default PATIENTOVERBLIK_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default PATIENTOVERBLIK_PORT or 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes sharing the port (each reads the environment)."),
) -> None:
    """Run the gateway only, configured by PATIENTOVERBLIK_* environment variables."""
    settings = settings_or_exit()
    with stopped_by_signals():  # SIGHUP too stops it gracefully, as SIGTERM does
        _serve_gateway(settings, host or settings.host, port or settings.port, workers)


@app.command()
def sandbox(
    seed: int = typer.Option(2016, help="Seed of the synthetic population."),
    patients: int = typer.Option(200, help="Generated patients besides the personas."),
    latency_ms: float = typer.Option(0.0, help="Added latency on every source answer."),
    error_rate: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of source requests answered 503."),
    base_port: int = typer.Option(
        SANDBOX_PORTS["issuer"], help="Port of the token issuer; sources keep their offsets."
    ),
    fault: list[str] = typer.Option(  # noqa: B008 - typer's declaration style
        [], help="Knobs for one source or endpoint, NAME:KNOB=VALUE[,...], e.g. dds:latency_ms=400. Repeatable."
    ),
) -> None:
    """Run the simulated national sources only (real HTTP servers on 127.0.0.1)."""
    args = _sandbox_args(seed, patients, latency_ms, error_rate, base_port)
    for spec in fault:
        args += ["--fault", spec]
    raise typer.Exit(run_child(args))


@app.command()
def demo(
    seed: int = typer.Option(2016, help="Seed of the synthetic population."),
    patients: int = typer.Option(200, help="Generated patients besides the personas."),
    port: int = typer.Option(8000, help="Gateway port."),
) -> None:
    """Start the sandbox and the gateway together: what `make run` does.

    The demo turns the web page on at `/`, signing in through the sandbox's token issuer (ADR 0015).
    """
    settings = demo_settings()
    child = start_child(_sandbox_args(seed, patients, 0.0, 0.0, SANDBOX_PORTS["issuer"]))
    try:
        with stopped_by_signals():  # uvicorn handles SIGTERM and SIGINT while it serves, and raises them again after
            personas = _wait_for_sandbox(child)
            _print_welcome(port, personas)
            _serve_gateway(settings, "127.0.0.1", port)
    finally:
        stop_child(child)


@app.command()
def token(
    as_: str = typer.Option(..., "--as", help="citizen, professional, assistant or system"),
    cpr: str | None = typer.Option(None, help="The citizen's CPR number (--as citizen)."),
    authorization_id: str | None = typer.Option(
        None, help="Autorisations-ID: the professional, the responsible one (assistant), the acting one (system)."
    ),
    org_sor: str | None = typer.Option(None, help="The professional's organisation, SOR ID."),
    assistant_id: str | None = typer.Option(None, help="The assistant's user ID (--as assistant)."),
    client_id: str | None = typer.Option(None, help="The vendor system's client ID (--as system)."),
    expires_in: int = typer.Option(3600, help="Lifetime in seconds."),
    issuer_url: str = typer.Option(sandbox_url("issuer"), help="The demo token issuer."),
) -> None:
    """Print a signed demo token, alone on the last line, from the sandbox's token issuer."""
    body: dict[str, Any] = {"actor_kind": as_, "expires_in": expires_in}
    if as_ == "citizen":
        body["cpr"] = cpr
    elif as_ in ("professional", "assistant", "system"):
        body |= {"authorization_id": authorization_id, "organisation_sor": org_sor}
        body |= {"assistant_id": assistant_id} if as_ == "assistant" else {}
        body |= {"client_id": client_id} if as_ == "system" else {}
    else:
        raise typer.BadParameter("--as must be citizen, professional, assistant or system")
    try:
        response = httpx.post(f"{issuer_url}/token", json=body, timeout=5)
    except httpx.HTTPError:
        typer.echo(f"The token issuer at {issuer_url} is not reachable: start it with `make run`.", err=True)
        raise typer.Exit(2) from None
    if response.status_code != 200:
        typer.echo(f"The issuer refused (HTTP {response.status_code}): {_issuer_reason(response)}", err=True)
        raise typer.Exit(2)
    typer.echo(f"# {as_} token, valid {expires_in} s; send it as 'Authorization: Bearer <token>'", err=True)
    typer.echo(response.json()["access_token"])


@app.command("check-config")
def check_config() -> None:
    """Check the PATIENTOVERBLIK_* settings as `serve` does before it serves (the settings, the clients' trusted
    documents against the schema) and print them all, secrets masked; exit 2 if `serve` would not start."""
    settings = settings_or_exit()
    for line in effective_settings(settings):
        typer.echo(line)
    gateway_or_exit(settings, "configuration error")
    typer.echo("configuration OK", err=True)


@app.command("export-schema")
def export_schema(
    output: str = typer.Option("schema.graphql", help="Where to write the SDL."),
    stdout: bool = typer.Option(False, "--stdout", help="Print the SDL instead of writing it."),
) -> None:
    """Write the GraphQL schema (SDL) generated from the code."""
    sdl = schema_sdl()
    if stdout:
        sys.stdout.write(sdl)
        return
    Path(output).write_text(sdl, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


def _issuer_reason(response: httpx.Response) -> str:
    """The demo issuer's own reason, when it gave one in its error format; never the raw body."""
    try:
        reason = response.json().get("error_description")
    except (ValueError, AttributeError):
        reason = None
    return reason if isinstance(reason, str) else "no reason given"


def _sandbox_args(seed: int, patients: int, latency_ms: float, error_rate: float, base_port: int) -> list[str]:
    return [
        sys.executable, "-m", "sandbox",
        "--seed", str(seed), "--patients", str(patients),
        "--latency-ms", str(latency_ms), "--error-rate", str(error_rate), "--base-port", str(base_port),
        "--parent-pid", str(os.getpid()),
    ]  # fmt: skip


def _wait_for_sandbox(child: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            typer.echo("The sandbox stopped while starting (is a port in 8100-8122 taken?).", err=True)
            raise typer.Exit(1)
        try:
            response = httpx.get(f"{sandbox_url('issuer')}/personas", timeout=1)
            if response.status_code == 200:
                personas: dict[str, Any] = response.json()
                return personas
        except httpx.HTTPError:
            time.sleep(0.2)
    typer.echo("The sandbox did not start within 60 s.", err=True)
    raise typer.Exit(1)


def _print_welcome(port: int, listing: dict[str, Any]) -> None:
    url = f"http://127.0.0.1:{port}/graphql"
    typer.echo(f"\nWeb page:  http://127.0.0.1:{port}/   (sign in as a demo persona)")
    typer.echo(f"GraphiQL:  {url}")
    typer.echo("Token:     .venv/bin/patientoverblik token --as citizen --cpr <CPR>")
    typer.echo("           .venv/bin/patientoverblik token --as professional --authorization-id CBDJ6")
    typer.echo("           .venv/bin/patientoverblik token --as assistant --assistant-id medhjaelp-0042 \\")
    typer.echo("               --authorization-id CBDJ6")
    typer.echo("           .venv/bin/patientoverblik token --as system --client-id epj-odense --authorization-id CBDJ6")
    typer.echo('           (in GraphiQL, Headers: {"Authorization": "Bearer <token>"})\n')
    typer.echo("Demo personas:")
    for persona in listing.get("personas", []):
        typer.echo(f"  {persona['cpr']}  {persona['name']:<28} {persona['persona']}")
    typer.echo("Professionals:")
    for professional in listing.get("professionals", []):
        typer.echo(
            f"  {professional['authorization_id']}  {professional['name']:<28} SOR {professional['organisation_sor']}"
        )
    typer.echo("")


def demo_settings() -> Settings:
    """The demo's settings: the web page, CORS for any origin, introspection for everyone (ADR 0015, 0017)."""
    return settings_or_exit(
        web_page=True,
        web_demo_issuer_url=sandbox_url("issuer"),
        cors_allow_origins=["*"],
        introspection=Introspection.OPEN,
    )


def gateway_or_exit(settings: Settings, refusal: str) -> Starlette:
    """The gateway for ``settings`` as every command builds it, or the problem in one line (``patientoverblik:
    <refusal>: …``) and exit 2: `serve`, `demo` and `check-config` all ask here, so what `check-config`
    passes `serve` starts. Whatever else could refuse a configuration is refused by the settings themselves
    (:func:`gateway.config.load_settings`)."""
    from gateway.app import create_app
    from gateway.manifests import ManifestError

    try:
        return create_app(settings)
    except ManifestError as exc:
        typer.echo(f"patientoverblik: {refusal}: {exc}", err=True)
        raise typer.Exit(2) from None


def _serve_gateway(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    os.makedirs("var", exist_ok=True)
    gateway = gateway_or_exit(settings, "not starting")  # also with --workers: each worker builds its own after
    if workers > 1 and settings.federation.key_secret is None:
        # Each worker builds its app from the environment: one random key secret for all of them (ADR 0022).
        os.environ[KEY_SECRET_VARIABLE] = new_key_secret()
    ws_max_size = settings.subscriptions.max_message_bytes
    serving.serve(gateway if workers == 1 else None, host, port, workers, settings.log, ws_max_size)


def main() -> None:
    app()
