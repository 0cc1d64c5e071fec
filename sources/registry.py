"""All source adapters of one gateway process, built once and closed on shutdown."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from sources.base import SourceClient, SourceConfig, build_client
from sources.consent import ConsentSource
from sources.cpr import CprSource
from sources.jwks import JwksSource
from sources.registers import RegistersSource
from sources.stamkort import StamkortSource
from sources.treatment_relation import TreatmentRelationSource
from sources.yderregister import YderregisterSource


@dataclass(frozen=True)
class SourceConfigs:
    """Where each upstream lives."""

    cpr: SourceConfig
    yderregister: SourceConfig
    stamkort: SourceConfig
    registers: SourceConfig
    consent: SourceConfig
    treatment_relation: SourceConfig
    jwks: SourceConfig
    jwks_path: str = "/.well-known/jwks.json"


@dataclass
class Sources:
    """One adapter per upstream, each holding one long-lived HTTP client."""

    cpr: CprSource
    yderregister: YderregisterSource
    stamkort: StamkortSource
    registers: RegistersSource
    consent: ConsentSource
    treatment_relation: TreatmentRelationSource
    jwks: JwksSource
    clients: tuple[SourceClient, ...]

    async def aclose(self) -> None:
        """Close every upstream connection pool."""
        for client in self.clients:
            await client.aclose()


def build_sources(configs: SourceConfigs, transport: httpx.AsyncBaseTransport | None = None) -> Sources:
    """Build every adapter; ``transport`` replaces the network in tests."""

    def client(config: SourceConfig) -> SourceClient:
        return SourceClient(config, build_client(config, transport))

    names = [name for name, spec in configs.__dataclass_fields__.items() if spec.type == "SourceConfig"]
    clients = {name: client(getattr(configs, name)) for name in names}
    return Sources(
        cpr=CprSource(clients["cpr"]),
        yderregister=YderregisterSource(clients["yderregister"]),
        stamkort=StamkortSource(clients["stamkort"]),
        registers=RegistersSource(clients["registers"]),
        consent=ConsentSource(clients["consent"]),
        treatment_relation=TreatmentRelationSource(clients["treatment_relation"]),
        jwks=JwksSource(clients["jwks"], configs.jwks_path),
        clients=tuple(clients.values()),
    )
