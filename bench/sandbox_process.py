"""``python -m bench.sandbox_process``: the sandbox in its own process, plus patients with many appointments.

The same sources as ``patientoverblik sandbox`` (``sandbox.server.run``), with one bench-only change
to the population: for each count in ``--scaling`` (e.g. ``10,100,1000,10000``) one generated person
with no appointments of their own gets that many booked appointments on weekdays within the next 88 days, spread
evenly over the five FHIR appointment endpoints (two regions, two municipalities, the GP), so that no
endpoint needs more pages than the gateway's default page budget (50 pages of 50). The chosen CPR
numbers are written as JSON to ``--manifest`` (``{"scaling": {"10": "<cpr>", ...}}``) before serving.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import typer

from sandbox.clinical import AALBORG_TRAINING, DIALYSIS, LUNG_CLINIC, ODENSE_HOME_CARE
from sandbox.clinical_gen import ClinicBuilder, local, workday
from sandbox.control import Faults
from sandbox.personas import HASSERIS
from sandbox.population import Population, build_population
from sandbox.server import DEFAULT_PORTS, run

FHIR_PLACES = (DIALYSIS, LUNG_CLINIC, ODENSE_HOME_CARE, AALBORG_TRAINING)
"""One unit served by each non-GP FHIR endpoint (region-syddanmark, region-nordjylland, the municipalities)."""
WINDOW_DAYS = 85
"""Inside the gateway's default appointment window (today and 90 days on)."""

app = typer.Typer(add_completion=False)


def ports_from(base_port: int) -> dict[str, int]:
    """Every sandbox service's port when the issuer is on ``base_port`` (the sources keep their offsets)."""
    return {name: base_port + port - DEFAULT_PORTS["issuer"] for name, port in DEFAULT_PORTS.items()}


def add_scaling_patients(population: Population, counts: list[int]) -> dict[int, str]:
    """Give one appointment-free generated person ``count`` booked appointments, for each count.

    Returns count → CPR number. Deterministic for the same population and counts.
    """
    busy = {a.cpr for a in population.clinical.appointments} | set(population.personas.values())
    free = [p for p in population.persons.values() if p.status == "01" and p.cpr not in busy and p.ydernummer]
    if len(free) < len(counts):
        raise ValueError("the population has too few generated persons without appointments; raise --patients")
    clinic = ClinicBuilder(population.clinical, population.anchor, random.Random(population.seed + 11))
    chosen: dict[int, str] = {}
    for count, person in zip(counts, free, strict=False):
        practice = population.practices.get(person.ydernummer or "") or population.practices[HASSERIS]
        places = (*FHIR_PLACES, practice.sor)
        chart = clinic.chart(person.cpr)
        for i in range(count):
            day = workday(population.anchor + timedelta(days=1 + i % WINDOW_DAYS))
            start = local(day, 8 + (i // WINDOW_DAYS) % 8, 15 * ((i // (WINDOW_DAYS * 8)) % 4))
            chart.appointment(None, places[i % len(places)], start, 15, "Kontrol")
        chosen[count] = person.cpr
    return chosen


@app.command()
def main(
    base_port: int = typer.Option(..., help="Port of the token issuer; the sources keep their offsets."),
    latency_ms: float = typer.Option(0.0, help="Added latency on every source answer."),
    patients: int = typer.Option(10_000, help="Generated patients besides the personas."),
    scaling: str = typer.Option("", help="Comma-separated appointment counts, one bench patient each."),
    manifest: Path = typer.Option(..., help="Where to write the scaling patients' CPR numbers (JSON)."),  # noqa: B008
    seed: int = typer.Option(2016, help="Seed of the synthetic population."),
) -> None:
    """Serve the sandbox with the bench's scaling patients until interrupted."""
    population = build_population(seed, patients)
    counts = [int(c) for c in scaling.split(",") if c.strip()]
    chosen = add_scaling_patients(population, counts)
    manifest.write_text(json.dumps({"scaling": {str(k): v for k, v in chosen.items()}}), encoding="utf-8")
    run(population, "127.0.0.1", ports_from(base_port), Faults(latency_ms=latency_ms))


if __name__ == "__main__":
    app()
