"""Configuration from the environment (pydantic-settings).

Every variable starts with ``PATIENTOVERBLIK_``; nested values use ``__``, e.g.
``PATIENTOVERBLIK_CPR__BASE_URL=https://cpr.example/`` or ``PATIENTOVERBLIK_CPR__TIMEOUT_S=1.5``.
The defaults point at the sandbox on 127.0.0.1 as ``make run`` starts it.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.access_log import check_access_log_url
from auth.export import OPEN_GRACE_S
from auth.export_lease import DEFAULT_TTL_S
from auth.fields import ClientRegistration
from auth.key_cache import KeyCachePolicy
from auth.tokens import check_algorithms
from gateway.clients import ClientSpec, Introspection
from gateway.limits import Limits
from gateway.rate_limit import Budget, check_redis_url
from gateway.settings_federation import FederationSettings
from gateway.settings_resilience import AccessLogSettings, DeadlineSettings, ReadinessSettings
from gateway.settings_subscriptions import SubscriptionSettings
from gateway.settings_telemetry import LogSettings, MetricsSettings, TracingSettings
from gateway.settings_upstream import UpstreamAuthSettings, UpstreamUrl
from gateway.web import OPERATIONS_DIR, WEB_PAGE_FIELDS
from resolvers.cost import MAX_REPRESENTATIONS
from sources.base import DEFAULT_MAX_BODY_BYTES, KIB, MIB, SourceConfig
from sources.breaker import BreakerPolicy
from sources.clinical import Endpoint, OrganisationKind
from sources.document_cache import DocumentCachePolicy
from sources.reference_cache import ReferenceCachePolicy
from sources.registry import EndpointConfig, EndpointFormat, SourceConfigs
from sources.transport import HttpTransport

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORTS = {
    "issuer": 8100,
    "cpr": 8101,
    "yderregister": 8102,
    "stamkort": 8103,
    "registers": 8104,
    "consent": 8105,
    "treatment_relation": 8106,
    "sor": 8107,
    "minlog": 8108,
    "fuldmagt": 8109,
    "region-syddanmark": 8110,
    "region-nordjylland": 8111,
    "municipality-odense": 8112,
    "municipality-aalborg": 8113,
    "gp": 8114,
    "dds": 8115,
    "plans-gp": 8120,
    "plans-municipality": 8121,
    "plans-hospital": 8122,
}
SANDBOX_APPOINTMENT_ENDPOINTS: tuple[tuple[str, EndpointFormat, OrganisationKind | None, str | None], ...] = (
    ("region-syddanmark", EndpointFormat.FHIR, OrganisationKind.REGION, "248101000016008"),
    ("region-nordjylland", EndpointFormat.FHIR, OrganisationKind.REGION, "248201000016004"),
    ("municipality-odense", EndpointFormat.FHIR, OrganisationKind.MUNICIPALITY, "359001000016000"),
    ("municipality-aalborg", EndpointFormat.FHIR, OrganisationKind.MUNICIPALITY, "361001000016009"),
    ("gp", EndpointFormat.FHIR, OrganisationKind.GP, None),
    ("dds", EndpointFormat.APD_MHD, None, None),
)
"""The sandbox's appointment endpoints: name, format, sector and owning organisation (SOR)."""
SANDBOX_PLAN_ENDPOINTS: tuple[tuple[str, OrganisationKind], ...] = (
    ("plans-gp", OrganisationKind.GP),
    ("plans-municipality", OrganisationKind.MUNICIPALITY),
    ("plans-hospital", OrganisationKind.REGION),
)


SEARCH_MAX_BODY_BYTES = 8 * MIB
"""Default body limit of an appointment or plan endpoint: one page of a FHIR search or a document index."""
SOR_MAX_BODY_BYTES = 4 * MIB
"""Default body limit of the SOR register: a region's whole tree of units can come in one answer."""


def sandbox_url(name: str) -> str:
    """The URL of a sandbox service on its default port."""
    return f"http://{SANDBOX_HOST}:{SANDBOX_PORTS[name]}"


class SourceSettings(UpstreamAuthSettings):
    """How to reach one upstream source (credentials and TLS: :mod:`gateway.settings_upstream`)."""

    base_url: UpstreamUrl
    timeout_s: float = Field(
        default=2.0, gt=0, description="Total deadline of one call in seconds: connect, send, every read and retry."
    )
    retries: int = Field(default=1, ge=0, le=3, description="Retries for idempotent GETs, within the deadline.")
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES, gt=0, description="Largest answer body accepted, in bytes, after decoding."
    )
    backoff_s: float = Field(
        default=0.05,
        ge=0,
        description="Base of the backoff before a retry: the n-th waits a random 0 to backoff_s * 2**(n-1) s.",
    )
    breaker_failures: int = Field(
        default=5, ge=1, description="Failed requests in a row (no answer, or 5xx) that open the source's breaker."
    )
    breaker_cool_down_s: float = Field(
        default=10.0, gt=0, description="Seconds an open breaker fails calls at once before one probe may go out."
    )

    def config(self, name: str) -> SourceConfig:
        return SourceConfig(
            name,
            self.base_url,
            timeout_s=self.timeout_s,
            retries=self.retries,
            token=self.bearer_token(),
            max_body_bytes=self.max_body_bytes,
            backoff_s=self.backoff_s,
            breaker=BreakerPolicy(self.breaker_failures, self.breaker_cool_down_s),
            credentials=self.credentials(),
            tls=self.tls_files(),
        )


class EndpointSettings(SourceSettings):
    """One endpoint of a many-endpoint source (appointments, plans)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Shown as `source` in errors.")
    max_body_bytes: int = Field(
        default=SEARCH_MAX_BODY_BYTES, gt=0, description="Largest answer body (a search page) accepted, in bytes."
    )
    format: EndpointFormat = EndpointFormat.FHIR
    kind: OrganisationKind | None = Field(default=None, description="The sector; None when items say it.")
    organisation_sor: str | None = Field(
        default=None, pattern=r"^[0-9]{6,18}$", description="Set when everything the endpoint serves is this SOR's."
    )
    plan_start_search: bool = Field(
        default=True,
        description=(
            "A plan endpoint supports the `period-start` search on CarePlan; without it plans still running "
            "in a window are fetched and dropped on the way out (docs/sources/plans.md)."
        ),
    )
    max_pages: int = Field(
        default=50, ge=1, le=1000, description="Pages one search may take; beyond them the answer is incomplete."
    )

    def endpoint_config(self) -> EndpointConfig:
        endpoint = Endpoint(self.name, self.kind, self.organisation_sor, self.plan_start_search, self.max_pages)
        return EndpointConfig(self.config(self.name), endpoint, self.format)


def _sandbox_appointment_endpoints() -> list[EndpointSettings]:
    return [
        EndpointSettings(name=name, base_url=sandbox_url(name), format=fmt, kind=kind, organisation_sor=sor)
        for name, fmt, kind, sor in SANDBOX_APPOINTMENT_ENDPOINTS
    ]


def _sandbox_plan_endpoints() -> list[EndpointSettings]:
    return [EndpointSettings(name=name, base_url=sandbox_url(name), kind=kind) for name, kind in SANDBOX_PLAN_ENDPOINTS]


class ClientSettings(BaseModel):
    """A vendor system's client registration."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The system's name, shown in the citizen's access log.")
    fields: list[str] = Field(
        description="GraphQL field coordinates the client may select: `Type.field`, or `Type.*` for a whole type."
    )
    authority: bool = Field(default=False, description="A whitelisted authority: sees protected names and addresses.")
    trusted_documents: Path | None = Field(
        default=None,
        description=(
            "The client's operations: a JSON manifest {id: document}, or a folder of <id>.graphql files; checked "
            "at start (ADR 0017)."
        ),
    )
    trusted_documents_only: bool = Field(
        default=False, description="The client may run only its manifest's documents (DOCUMENT_NOT_TRUSTED)."
    )
    developer: bool = Field(
        default=False, description="A developer client: may introspect the schema where introspection is limited."
    )
    max_cost: int | None = Field(default=None, ge=1, description="The most one operation may cost (default: max_cost).")
    requests_per_window: int | None = Field(default=None, ge=1, description="Requests per rate-limit window.")
    cost_per_window: int | None = Field(default=None, ge=1, description="Points of query cost per rate-limit window.")

    @model_validator(mode="after")
    def _manifest_for_trusted_only(self) -> ClientSettings:
        if self.trusted_documents_only and self.trusted_documents is None:
            raise ValueError("trusted_documents_only needs a trusted_documents manifest")
        return self

    def registration(self, client_id: str) -> ClientRegistration:
        return ClientRegistration(client_id, self.name, frozenset(self.fields), self.authority)

    def spec(self, client_id: str, default: Budget) -> ClientSpec:
        """The registration with its budget (unset parts from ``default``) and trusted documents."""
        budget = Budget(
            self.max_cost or default.max_cost,
            self.requests_per_window or default.requests,
            self.cost_per_window or default.cost,
            default.window_s,
        )
        return ClientSpec(
            self.registration(client_id), budget, self.trusted_documents, self.trusted_documents_only, self.developer
        )


DEMO_CLIENTS = {
    "epj-odense": ClientSettings(
        name="EPJ Odense (demo)",
        fields=[
            "Query.patient",
            "Query._entities",
            "Patient.id",
            "Patient.cpr",
            "Patient.person",
            "Person.*",
            "PostalAddress.*",
            "Patient.generalPractitioner",
            "GeneralPractitioner.*",
            "Patient.masterCard",
            "MasterCard.*",
            "Relative.*",
            "TemporaryAddress.*",
            "Registrations.treatmentWill",
            "Registrations.livingWill",
            "Registrations.organDonor",
            "Registrations.resuscitationOptOut",
            "Patient.appointments",
            "Appointments.*",
            "AppointmentConnection.*",
            "Appointment.*",
            "AppointmentDay.*",
            "AppointmentWeek.*",
            "AppointmentLocation.*",
            "Organisation.*",
            "Coding.*",
            "Period.*",
            "DoctorConnection.*",
            "Doctor.*",
            "SourceStatus.*",
        ],
    )
}
"""The sandbox's demo vendor system: the person, GP, master card and appointments, not plans or diagnoses; by CPR
number or, through a Federation router, by the patient's key."""


class Settings(BaseSettings):
    """The gateway's settings."""

    model_config = SettingsConfigDict(env_prefix="PATIENTOVERBLIK_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: Annotated[str, AfterValidator(check_access_log_url)] = "sqlite:///var/access.db"
    token_issuer: str = Field(default_factory=lambda: sandbox_url("issuer"))
    token_jwks_url: UpstreamUrl = Field(default_factory=lambda: sandbox_url("issuer") + "/.well-known/jwks.json")
    token_audience: str = "patientoverblik"  # noqa: S105 - an audience name, not a secret
    token_algorithms: Annotated[tuple[str, ...], AfterValidator(check_algorithms)] = ("RS256", "ES256")
    token_jwks_timeout_s: float = Field(
        default=2.0, gt=0, description="Total deadline of one key set fetch, and the longest a request waits for it."
    )
    token_jwks_max_bytes: int = Field(default=64 * KIB, gt=0, description="Largest key set document accepted.")
    token_keys_refresh_s: float = Field(
        default=300.0, ge=0, description="Age of the key set after which it is refreshed in the background."
    )
    token_keys_max_age_s: float = Field(
        default=3600.0, gt=0, description="Age after which a key set the issuer no longer serves stops being used."
    )
    token_keys_retry_s: float = Field(
        default=5.0, ge=0, description="Least time between key set fetches after a failure or for an unknown key id."
    )
    graphiql: bool = True
    web_page: bool = Field(
        default=False,
        description="Serve the web page (gateway/static/web) at `/`; `patientoverblik demo` turns it on (ADR 0015).",
    )
    web_client_id: str = Field(
        default="patientoverblik-web",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$",
        description=(
            "The client ID (`azp`) of the web page's tokens. With the page on, the gateway registers it with the "
            "page's operations folder as its trusted documents (ADR 0015); a registration of this ID in `clients` "
            "replaces that one."
        ),
    )
    web_trusted_documents_only: bool = Field(
        default=True,
        description="The web page's client runs only the page's operations (DOCUMENT_NOT_TRUSTED for any other).",
    )
    web_demo_issuer_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+$",
        description=(
            "The demo token issuer's origin the web page's persona picker asks for tokens (`POST /token`); null "
            "outside the demo, where the page takes a token from the host application or an OIDC redirect."
        ),
    )
    max_request_bytes: int = Field(
        default=65_536, ge=1_024, description="Largest request body in bytes; larger is HTTP 413 REQUEST_TOO_LARGE."
    )
    request_body_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest the whole request body may take to arrive; slower is HTTP 408 REQUEST_TIMEOUT.",
    )
    max_tokens: int = Field(
        default=1_000, ge=100, description="Most lexical tokens (comments included) in a document: QUERY_TOO_COMPLEX."
    )
    max_operations: int = Field(default=10, ge=1, description="Most operations in one document: QUERY_TOO_COMPLEX.")
    max_depth: int = Field(
        default=12, ge=1, description="Deepest nesting of fields with selections (introspection not counted)."
    )
    max_aliases: int = Field(
        default=30, ge=0, description="Most aliases in an operation, fragments counted where spread: QUERY_TOO_COMPLEX."
    )
    max_representations: int = Field(
        default=MAX_REPRESENTATIONS,
        ge=1,
        description="Most Federation representations in an operation, over every `_entities`: QUERY_TOO_COMPLEX.",
    )
    stamkort_blockable: bool = Field(
        default=False,
        description=(
            "Whether a block on a professional also hides the master data (stamoplysninger). Off: citizens "
            "cannot block stamkort sharing since 1 December 2024 (BEK 193/2024)."
        ),
    )
    clients: dict[str, ClientSettings] = Field(
        default_factory=lambda: dict(DEMO_CLIENTS),
        description="Vendor systems' registrations by client ID (JSON in PATIENTOVERBLIK_CLIENTS).",
    )

    cpr: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("cpr")))
    yderregister: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("yderregister")))
    stamkort: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("stamkort")))
    registers: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("registers")))
    consent: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("consent")))
    treatment_relation: SourceSettings = Field(
        default_factory=lambda: SourceSettings(base_url=sandbox_url("treatment_relation"))
    )
    sor: SourceSettings = Field(
        default_factory=lambda: SourceSettings(base_url=sandbox_url("sor"), max_body_bytes=SOR_MAX_BODY_BYTES)
    )
    fuldmagt: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("fuldmagt")))
    minlog: SourceSettings | None = Field(
        default_factory=lambda: SourceSettings(base_url=sandbox_url("minlog")),
        description="The national Min Log sink that receives access records as FHIR AuditEvent; null: no export.",
    )
    minlog_observer: str = Field(
        default="patientoverblik", description="The gateway's identity in exported events (its SOR code in production)."
    )
    minlog_export_interval_s: float = Field(default=5.0, gt=0, description="How often pending records are exported.")
    minlog_export_lease_s: float = Field(
        default=DEFAULT_TTL_S,
        gt=0,
        description=(
            "How long the export lease lasts unless renewed: of several gateway processes on one access log only its "
            "holder exports, and a holder that died is replaced after this long (ADR 0026). Keep it longer than the "
            "interval, or the lease changes hands between runs."
        ),
    )
    minlog_open_grace_s: float = Field(
        default=OPEN_GRACE_S,
        gt=0,
        description=(
            "How long the record of a change that was never finalised waits before it is exported as it stands, "
            "outcome 'unconfirmed' (ADR 0007); far longer than any request takes."
        ),
    )
    appointment_endpoints: list[EndpointSettings] = Field(
        default_factory=_sandbox_appointment_endpoints,
        description="Every appointment endpoint (JSON list in PATIENTOVERBLIK_APPOINTMENT_ENDPOINTS).",
    )
    plan_endpoints: list[EndpointSettings] = Field(
        default_factory=_sandbox_plan_endpoints,
        description="Every plan source (JSON list in PATIENTOVERBLIK_PLAN_ENDPOINTS).",
    )
    document_cache_entries: int = Field(
        default=10_000, ge=0, description="Parsed DDS documents kept across requests at most (0: no cache)."
    )
    document_cache_bytes: int = Field(
        default=64 * MIB, ge=0, description="Raw bytes of the DDS documents kept across requests at most (0: no cache)."
    )
    practice_cache_ttl_s: float = Field(
        default=300.0, ge=0, description="Seconds a practice read by ydernummer is kept across requests (0: not kept)."
    )
    sor_cache_ttl_s: float = Field(
        default=300.0,
        ge=0,
        description="Seconds an organisation's SOR sub-units are kept across requests (0: not kept); ADR 0014.",
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may call /graphql (CORS); [] none (the default outside the demo), ['*'] any.",
    )
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(
        default_factory=list,
        description=(
            "Addresses or networks of the reverse proxies and balancers in front of the gateway, e.g. "
            "['10.0.0.0/24']: only a connection from one of them has its X-Forwarded-For and X-Forwarded-Proto "
            "read for the caller's address (rate limits of callers without a token, the /metrics allow-list). "
            "[] (the default): none, whatever uvicorn would trust."
        ),
    )
    cors_allow_credentials: bool = Field(
        default=False, description="Let browsers send cookies cross-origin (never with '*'; tokens need no cookies)."
    )
    cors_max_age_s: int = Field(default=600, ge=0, le=86_400, description="Seconds browsers may cache a preflight.")
    introspection: Introspection = Field(
        default=Introspection.DEVELOPERS,
        description="Who may introspect and get 'Did you mean' suggestions: open (the demo) or developers (clients "
        "registered with developer: true).",
    )
    redis_url: Annotated[str, AfterValidator(check_redis_url)] | None = Field(
        default=None,
        description="Share rate limits between gateway processes in this Redis (redis://host:port/db); unset: "
        "in-process.",
    )
    max_cost: int = Field(default=5_000, ge=1, description="The most one operation may cost: QUERY_TOO_COMPLEX.")
    rate_limit_window_s: int = Field(default=60, ge=1, le=86_400, description="The rate-limit window in seconds.")
    rate_limit_requests: int = Field(default=600, ge=1, description="Requests per window per caller: RATE_LIMITED.")
    rate_limit_cost: int = Field(
        default=100_000, ge=1, description="Points of query cost per window per caller: RATE_LIMITED."
    )
    http_transport: HttpTransport = Field(
        default=HttpTransport.AIOHTTP,
        description="The HTTP transport under every source's client: aiohttp (measured faster, ADR 0013) or httpcore.",
    )
    log: LogSettings = Field(default_factory=LogSettings, description="Log format and level (ADR 0019).")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="`/metrics` and who may read it.")
    tracing: TracingSettings = Field(default_factory=TracingSettings, description="OpenTelemetry traces (off).")
    deadline: DeadlineSettings = Field(default_factory=DeadlineSettings, description="One deadline per request.")
    access_log: AccessLogSettings = Field(
        default_factory=AccessLogSettings, description="How long the access log waits for its database."
    )
    readiness: ReadinessSettings = Field(default_factory=ReadinessSettings, description="What `/readyz` checks.")
    subscriptions: SubscriptionSettings = Field(
        default_factory=SubscriptionSettings, description="Subscriptions over WebSocket: polls and bounds (ADR 0023)."
    )
    federation: FederationSettings = Field(
        default_factory=FederationSettings, description="The secret of the patient's federation key (ADR 0022)."
    )

    @field_validator("appointment_endpoints", "plan_endpoints")
    @classmethod
    def _distinct_names(cls, endpoints: list[EndpointSettings]) -> list[EndpointSettings]:
        names = [e.name for e in endpoints]
        if len(set(names)) != len(names):
            raise ValueError("endpoint names must be distinct")
        return endpoints

    @model_validator(mode="after")
    def _cors_credentials(self) -> Settings:
        if self.cors_allow_credentials and "*" in self.cors_allow_origins:
            raise ValueError("cors_allow_credentials cannot be used with the origin '*'")
        return self

    @model_validator(mode="after")
    def _key_ages(self) -> Settings:
        if self.token_keys_max_age_s < self.token_keys_refresh_s:
            raise ValueError(
                "PATIENTOVERBLIK_TOKEN_KEYS_MAX_AGE_S must be at least PATIENTOVERBLIK_TOKEN_KEYS_REFRESH_S"
            )
        return self

    def key_cache_policy(self) -> KeyCachePolicy:
        """How long the issuer's key set is trusted and how long a request waits for it."""
        return KeyCachePolicy(
            refresh_s=self.token_keys_refresh_s,
            max_age_s=self.token_keys_max_age_s,
            retry_s=self.token_keys_retry_s,
            wait_s=self.token_jwks_timeout_s,
        )

    def limits(self) -> Limits:
        """The bounds on one request's work."""
        return Limits(
            self.max_request_bytes,
            self.max_tokens,
            self.max_operations,
            self.max_depth,
            self.max_aliases,
            self.request_body_timeout_s,
            self.max_representations,
        )

    def default_budget(self) -> Budget:
        """The budget of a caller whose client registration sets none."""
        return Budget(self.max_cost, self.rate_limit_requests, self.rate_limit_cost, self.rate_limit_window_s)

    def web_page_client(self) -> ClientSettings:
        """The web page's client registration: its operations folder as its manifest, its fields (ADR 0015)."""
        return ClientSettings(
            name="Patientoverblik, websiden",
            fields=list(WEB_PAGE_FIELDS),
            trusted_documents=OPERATIONS_DIR,
            trusted_documents_only=self.web_trusted_documents_only,
        )

    def registered_clients(self) -> dict[str, ClientSettings]:
        """``clients``, and the web page's client when the page is served and ``clients`` does not name it."""
        if not self.web_page or self.web_client_id in self.clients:
            return self.clients
        return {**self.clients, self.web_client_id: self.web_page_client()}

    def client_specs(self) -> dict[str, ClientSpec]:
        """The registrations with their budgets and trusted documents, keyed by client ID."""
        default = self.default_budget()
        return {client_id: c.spec(client_id, default) for client_id, c in self.registered_clients().items()}

    @property
    def clients_replaced(self) -> bool:
        """``PATIENTOVERBLIK_CLIENTS`` (or ``clients=``) was given: the built-in registrations are not used."""
        return "clients" in self.model_fields_set

    def client_registrations(self) -> dict[str, ClientRegistration]:
        """The clients' registrations (vendor systems and the web page), keyed by client ID."""
        return {client_id: c.registration(client_id) for client_id, c in self.registered_clients().items()}

    def source_configs(self) -> SourceConfigs:
        """The adapters' configuration, including the issuer's JWKS endpoint."""
        jwks = urlsplit(self.token_jwks_url)
        return SourceConfigs(
            cpr=self.cpr.config("cpr"),
            yderregister=self.yderregister.config("yderregister"),
            stamkort=self.stamkort.config("stamkort"),
            registers=self.registers.config("registers"),
            consent=self.consent.config("consent"),
            treatment_relation=self.treatment_relation.config("treatment_relation"),
            jwks=SourceConfig(
                "token_issuer",
                f"{jwks.scheme}://{jwks.netloc}",
                timeout_s=self.token_jwks_timeout_s,
                retries=1,
                max_body_bytes=self.token_jwks_max_bytes,
            ),
            jwks_path=jwks.path or "/",
            sor=self.sor.config("sor"),
            fuldmagt=self.fuldmagt.config("fuldmagt"),
            minlog=self.minlog.config("minlog") if self.minlog is not None else None,
            appointments=tuple(e.endpoint_config() for e in self.appointment_endpoints),
            plans=tuple(e.endpoint_config() for e in self.plan_endpoints),
            transport=self.http_transport,
            document_cache=DocumentCachePolicy(self.document_cache_entries, self.document_cache_bytes),
            reference_cache=ReferenceCachePolicy(self.practice_cache_ttl_s, self.sor_cache_ttl_s),
        )
