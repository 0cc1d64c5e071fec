"""The per-request context: built once per request, inside the running loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import GraphQLError

from auth.access_log import AccessLog
from auth.actor import Actor
from auth.gate import AccessServices
from auth.operation import PreparedOperation
from auth.plan import AccessPlan
from auth.stream import StreamDecisions
from gateway.clients import Client
from gateway.rate_limit import Budget, RateLimiter
from resolvers.context import StreamView
from resolvers.loaders import Loaders
from resolvers.protection import Protections
from sources.consent import ConsentSource
from sources.models import BlockRecord, MasterCardRecord, PersonRecord
from sources.patient_keys import PatientKeys
from sources.stamkort import StamkortSource


@dataclass(frozen=True)
class SourceWriters:
    """The sources' write operations (Fælles Stamkort, Min Spærring), as resolvers use them."""

    stamkort: StamkortSource
    consent: ConsentSource

    async def update_master_card(self, card: MasterCardRecord, expected_version: str) -> MasterCardRecord:
        return await self.stamkort.update_master_card(card, expected_version)

    async def create_block(self, block: BlockRecord) -> BlockRecord:
        return await self.consent.create_block(block)

    async def revoke_block(self, cpr: str, block_id: str) -> None:
        await self.consent.revoke_block(cpr, block_id)


@dataclass
class RequestContext:
    """Everything one request carries; satisfies the gate's and the resolvers' protocols."""

    actor: Actor
    request_id: str
    loaders: Loaders
    access: AccessServices
    writers: SourceWriters
    access_plan: AccessPlan | None = field(default=None)
    prepared_operation: PreparedOperation | None = field(default=None)
    """The operation and coerced variables the gate decided for; execution runs exactly these."""
    protections: Protections = field(default_factory=Protections)
    """Name and address protection, decided once per patient for this request."""
    partial_errors: list[GraphQLError] = field(default_factory=list)
    """Errors of fields that still returned data; added to the response's ``errors``."""
    client: Client | None = None
    """The calling client: registration, trusted documents, budget (``gateway.clients``)."""
    rate_key: str = ""
    """What the caller's requests and cost are counted under (``gateway.rate_limit``)."""
    limiter: RateLimiter | None = None
    explorer: bool = False
    """The caller may introspect the schema and get "Did you mean" suggestions (``gateway.explore``)."""
    cost: int | None = None
    """The operation's static cost, once the cost guard has estimated it."""
    stream_decisions: StreamDecisions | None = None
    """A subscription's access decisions after its start (set by the consent gate)."""
    stream: StreamView | None = None
    """A subscription's polls (``gateway.streams.PollControl``); ``None`` for a query or mutation."""

    @property
    def budget(self) -> Budget:
        """The caller's budget: its client's, or the defaults."""
        return self.client.budget if self.client is not None else Budget()

    def remember_persons(self, records: Mapping[str, PersonRecord]) -> None:
        """Prime the request's CPR loader with the records the access decision loaded."""
        for cpr, record in records.items():
            self.loaders.persons.prime(cpr, record)

    @property
    def patient_keys(self) -> PatientKeys:
        """The deployment's patient keys (``Patient.id``, ``_entities``)."""
        return self.access.patient_keys

    @property
    def access_log(self) -> AccessLog:
        """The access-record store (resolvers read the patient's Min Log from it)."""
        return self.access.access_log
