"""``python -m sandbox``: the simulated national sources on loopback."""

from __future__ import annotations

import time

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
    base_port: int = typer.Option(8100, help="Port of the token issuer; the sources keep their offsets from 8100."),
    latency_ms: float = typer.Option(0.0, help="Added latency on every source answer."),
    jitter_ms: float = typer.Option(0.0, help="Random extra latency, up to this many ms."),
    error_rate: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of source requests answered 503."),
    fault: list[str] = typer.Option(  # noqa: B008 - typer's declaration style
        [],
        help="Knobs for one source or endpoint: NAME:KNOB=VALUE[,KNOB=VALUE], e.g. region-syddanmark:mode=down "
        "or dds:latency_ms=400,jitter_ms=100. Repeatable.",
    ),
    parent_pid: int | None = typer.Option(
        None, help="Stop when this process is gone (the command that started the sandbox passes its own)."
    ),
) -> None:
    """Serve the sandbox until stopped (SIGTERM, SIGINT) or its parent is gone."""
    started = time.perf_counter()
    population = build_population(seed, patients)
    built = time.perf_counter() - started
    ports = {name: base_port + default - DEFAULT_PORTS["issuer"] for name, default in DEFAULT_PORTS.items()}
    common = Faults(latency_ms=latency_ms, jitter_ms=jitter_ms, error_rate=error_rate)
    try:
        per_source = parse_faults(fault, common, set(ports))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    clinical = population.clinical
    typer.echo(
        f"sandbox: {len(population.persons)} persons, {len(clinical.appointments)} appointments, "
        f"{len(clinical.care_plans)} plans (seed {seed}, built in {built:.1f} s)"
    )
    for name, port in ports.items():
        knobs = f"  [{per_source[name]}]" if name in per_source else ""
        typer.echo(f"  {name:<20} http://{host}:{port}{knobs}")
    run(population, host, ports, common, per_source, parent_pid)


def parse_faults(specs: list[str], common: Faults, names: set[str]) -> dict[str, Faults]:
    """``NAME:KNOB=VALUE[,KNOB=VALUE]`` specs → each named source's knobs (on top of ``common``)."""
    found: dict[str, Faults] = {}
    for spec in specs:
        name, _, settings = spec.partition(":")
        if name not in names or not settings:
            raise ValueError(f"expected NAME:KNOB=VALUE with NAME one of {sorted(names)}")
        knobs = found.setdefault(name, Faults(**vars(common)))
        values = dict(pair.split("=", 1) for pair in settings.split(",") if "=" in pair)
        if not values:
            raise ValueError("expected KNOB=VALUE after the source name")
        knobs.update(values)
    return found


if __name__ == "__main__":
    app()
