"""All source adapters of one gateway process, built once and closed on shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

import httpx

from sources.appointments import FhirAppointmentSource
from sources.base import SourceClient, SourceConfig, build_client
from sources.breaker import BreakerState
from sources.clinical import AppointmentSource, Endpoint
from sources.consent import ConsentSource
from sources.cpr import CprSource
from sources.credentials import TokenProvider
from sources.dds import DdsAppointmentSource
from sources.document_cache import DocumentCache, DocumentCachePolicy
from sources.fuldmagt import FuldmagtSource
from sources.jwks import JwksSource
from sources.minlog import MinLogSink
from sources.plans import PlanSource
from sources.reference_cache import ReferenceCache, ReferenceCachePolicy
from sources.registers import RegistersSource
from sources.sor import SorSource
from sources.stamkort import StamkortSource
from sources.transport import KEEPALIVE_EXPIRY_S, HttpTransport, build_transport
from sources.treatment_relation import TreatmentRelationSource
from sources.yderregister import YderregisterSource


class EndpointFormat(StrEnum):
    """The wire format of an appointment or plan endpoint."""

    FHIR = "fhir"
    """FHIR R4 search (``Appointment``; ``CarePlan``, ``Goal``, ``Condition``)."""
    APD_MHD = "apd-mhd"
    """MedCom APD-DK CDA documents found through an IHE MHD document index (DDS)."""


@dataclass(frozen=True)
class EndpointConfig:
    """One endpoint of a many-endpoint source: where it is, what it is, how it speaks."""

    source: SourceConfig
    endpoint: Endpoint
    format: EndpointFormat = EndpointFormat.FHIR


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
    sor: SourceConfig
    fuldmagt: SourceConfig
    minlog: SourceConfig | None = None
    jwks_path: str = "/.well-known/jwks.json"
    appointments: tuple[EndpointConfig, ...] = ()
    plans: tuple[EndpointConfig, ...] = ()
    transport: HttpTransport = HttpTransport.AIOHTTP
    """The HTTP transport under every adapter (ADR 0013)."""
    keepalive_expiry_s: float = KEEPALIVE_EXPIRY_S
    """Seconds an idle upstream connection is kept (:data:`sources.transport.KEEPALIVE_EXPIRY_S`)."""
    document_cache: DocumentCachePolicy = field(default_factory=DocumentCachePolicy)
    """Bounds of the parsed DDS documents shared across requests (ADR 0014)."""
    reference_cache: ReferenceCachePolicy = field(default_factory=ReferenceCachePolicy)
    """How long practices and SOR sub-units are kept across requests (ADR 0014)."""


@dataclass
class Sources:
    """One adapter per upstream (one per endpoint for many-endpoint sources), each with its client."""

    cpr: CprSource
    yderregister: YderregisterSource
    stamkort: StamkortSource
    registers: RegistersSource
    consent: ConsentSource
    treatment_relation: TreatmentRelationSource
    jwks: JwksSource
    sor: SorSource
    fuldmagt: FuldmagtSource
    minlog: MinLogSink | None = None
    appointments: tuple[AppointmentSource, ...] = ()
    plans: tuple[PlanSource, ...] = ()
    clients: tuple[SourceClient, ...] = field(default_factory=tuple)

    def breaker_states(self) -> dict[str, BreakerState]:
        """Each upstream's circuit breaker state, by source or endpoint name (for readiness reports)."""
        return {client.name: client.breaker.state for client in self.clients}

    async def aclose(self) -> None:
        """Close every upstream connection pool."""
        for client in self.clients:
            await client.aclose()


def build_sources(
    configs: SourceConfigs, transport: httpx.AsyncBaseTransport | None = None, *, observer: str = "patientoverblik"
) -> Sources:
    """Build every adapter; ``transport`` replaces the network in tests; ``observer`` names us to Min Log.

    Without ``transport`` each upstream gets its own connection pool of ``configs.transport``.
    """
    clients: list[SourceClient] = []
    documents = DocumentCache(configs.document_cache)
    reference, limit = configs.reference_cache, configs.reference_cache.max_entries

    def client(config: SourceConfig) -> SourceClient:
        made = SourceClient(
            config,
            build_client(
                config,
                transport
                or build_transport(configs.transport, config.tls, keepalive_expiry_s=configs.keepalive_expiry_s),
            ),
            credentials=token_provider(config),
        )
        clients.append(made)
        return made

    def token_provider(config: SourceConfig) -> TokenProvider | None:
        """The source's token, fetched from its token endpoint by a client of its own (``<source>.token``)."""
        if config.credentials is None:
            return None
        url = urlsplit(config.credentials.token_url)
        endpoint = SourceConfig(
            f"{config.name}.token",
            f"{url.scheme}://{url.netloc}",
            timeout_s=config.timeout_s,
            retries=0,
            breaker=config.breaker,
            tls=config.tls,
        )
        return TokenProvider(client(endpoint), url.path + (f"?{url.query}" if url.query else ""), config.credentials)

    def appointment_source(config: EndpointConfig) -> AppointmentSource:
        if config.format is EndpointFormat.APD_MHD:
            return DdsAppointmentSource(client(config.source), config.endpoint, documents)
        return FhirAppointmentSource(client(config.source), config.endpoint)

    return Sources(
        cpr=CprSource(client(configs.cpr)),
        yderregister=YderregisterSource(client(configs.yderregister), ReferenceCache(reference.practice_ttl_s, limit)),
        stamkort=StamkortSource(client(configs.stamkort)),
        registers=RegistersSource(client(configs.registers)),
        consent=ConsentSource(client(configs.consent)),
        treatment_relation=TreatmentRelationSource(client(configs.treatment_relation)),
        jwks=JwksSource(client(configs.jwks), configs.jwks_path),
        sor=SorSource(client(configs.sor), ReferenceCache(reference.sor_ttl_s, limit)),
        fuldmagt=FuldmagtSource(client(configs.fuldmagt)),
        minlog=MinLogSink(client(configs.minlog), observer=observer) if configs.minlog else None,
        appointments=tuple(appointment_source(c) for c in configs.appointments),
        plans=tuple(PlanSource(client(c.source), c.endpoint) for c in configs.plans),
        clients=tuple(clients),
    )
