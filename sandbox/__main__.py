"""``python -m sandbox``: the simulated national sources on loopback."""

from __future__ import annotations

import typer

from sandbox.control import Faults
from sandbox.population import build_population
from sandbox.server import DEFAULT_PORTS, run

app = typer.Typer(add_completion=False, help="Simulated national sources, as real HTTP servers on loopback.")


@app.command()
def main(
    seed: int = typer.Option(2016, help="Seed of the synthetic population."),
    patients: int = typer.Option(200, help="Generated patients besides the personas and MedCom test persons."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (keep it on loopback)."),
    base_port: int = typer.Option(8100, help="Port of the token issuer; the sources take the next six."),
    latency_ms: float = typer.Option(0.0, help="Added latency on every source answer."),
    jitter_ms: float = typer.Option(0.0, help="Random extra latency, up to this many ms."),
    error_rate: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of source requests answered 503."),
) -> None:
    """Serve the sandbox until interrupted."""
    population = build_population(seed, patients)
    ports = {name: base_port + offset for offset, name in enumerate(DEFAULT_PORTS)}
    typer.echo(f"sandbox: {len(population.persons)} persons (seed {seed})")
    for name, port in ports.items():
        typer.echo(f"  {name:<20} http://{host}:{port}")
    run(population, host, ports, Faults(latency_ms=latency_ms, jitter_ms=jitter_ms, error_rate=error_rate))


if __name__ == "__main__":
    app()
