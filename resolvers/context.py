"""What resolvers see of the request context (the gateway's context satisfies these protocols).

Resolvers read the access plan; they never decide access and never import ``auth/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from graphql import GraphQLError
from strawberry.types import Info as StrawberryInfo

from sources.audit import AccessCursor, AccessLogPage, ActorKind
from sources.categories import DataCategory
from sources.clinical import ItemFilter
from sources.errors import SourceCircuitOpen, SourceError, SourceRejected, SourceSkipped
from sources.models import BlockRecord, MasterCardRecord
from sources.patient_keys import PatientKeys

if TYPE_CHECKING:
    from resolvers.gather import Gathered, GatherKey, GroupLoader
    from resolvers.loaders import Loaders
    from resolvers.me import RepresentationView
    from resolvers.protection import Protections

T = TypeVar("T")
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)


class KeyLoader(Protocol[V_co]):
    """A per-request loader keyed by CPR number (``resolvers.loaders.BatchLoader``)."""

    async def get(self, key: str) -> V_co | None: ...


class DecisionView(Protocol):
    """One allowed category, as resolvers see it."""

    @property
    def withheld(self) -> bool:
        """Blocks narrow this category for the caller (something may be held back)."""

    @property
    def item_filter(self) -> ItemFilter:
        """The blocks to push down into the source query and to apply on the way out."""


class RepresentationsView(Protocol):
    """Whom the caller may act for, as the gate loaded it (``auth/representations.py``)."""

    @property
    def listed(self) -> Sequence[RepresentationView]: ...
    @property
    def failed(self) -> Sequence[SourceError]: ...


class AccessReader(Protocol):
    """The request's access plan, read-only."""

    @property
    def representations(self) -> RepresentationsView | None:
        """Whom the caller may act for, when the operation selects ``me.actsFor``."""

    def require_patient(self, cpr: str) -> str:
        """Raise the coded error unless the caller may see this patient; the current CPR number."""

    def require(self, cpr: str, category: DataCategory) -> DecisionView:
        """Raise the coded error unless the caller may see ``category`` of ``cpr``."""

    def mark_returned(self, cpr: str, category: DataCategory) -> None:
        """Note that ``category`` of ``cpr`` went out in the response (for a write: the change was made)."""

    def mark_attempted(self, cpr: str, category: DataCategory, *, attempted: bool = True) -> None:
        """Note that a write of ``category`` goes upstream now (``attempted=False``: the source refused it)."""

    def redact_protected(self, cpr: str) -> bool:
        """Whether protected names and addresses must be replaced by placeholders for this caller."""

    def redacted_patients(self) -> frozenset[str]:
        """Every patient the caller may see something of and gets placeholders for."""


class AssistantView(Protocol):
    """An assistant (medhjælp) acting for the caller's responsible professional."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...


class ActorView(Protocol):
    """Who the gateway thinks the caller is."""

    @property
    def kind(self) -> ActorKind: ...
    @property
    def cpr(self) -> str | None: ...
    @property
    def authorization_id(self) -> str | None: ...
    @property
    def organisation_sor(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def organisation_name(self) -> str | None: ...
    @property
    def profession(self) -> str | None: ...
    @property
    def assistant(self) -> AssistantView | None: ...


class AccessLogReader(Protocol):
    """The access-record store, read side (the patient's Min Log)."""

    async def log_page(
        self,
        cpr: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before: AccessCursor | None = None,
    ) -> AccessLogPage:
        """Up to ``limit`` rows about ``cpr``, newest first, with ``since <= at < until``, strictly
        older than ``before``: their readable records, the position of the last row, and whether more follow."""

    async def log_count(self, cpr: str, *, since: datetime | None = None, until: datetime | None = None) -> int:
        """How many rows about ``cpr`` with ``since <= at < until`` the pages of :meth:`log_page` walk."""


class Writers(Protocol):
    """The sources' write operations, as resolvers use them."""

    async def update_master_card(self, card: MasterCardRecord, expected_version: str) -> MasterCardRecord:
        """Replace the card if it is still at ``expected_version``."""

    async def create_block(self, block: BlockRecord) -> BlockRecord:
        """Store a new block (negativt samtykke)."""

    async def revoke_block(self, cpr: str, block_id: str) -> None:
        """Revoke the patient's block ``block_id``."""


class DocumentView(Protocol):
    """One trusted document of the calling client."""

    @property
    def id(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def operation_names(self) -> Sequence[str]: ...


class DocumentsView(Protocol):
    @property
    def documents(self) -> Sequence[DocumentView]: ...


class BudgetView(Protocol):
    """What the caller may spend per operation and per window."""

    @property
    def max_cost(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def cost(self) -> int: ...
    @property
    def window_s(self) -> int: ...


class ClientView(Protocol):
    """The calling client, as ``me.client`` shows it (``gateway/clients.py``)."""

    @property
    def registered(self) -> bool: ...
    @property
    def name(self) -> str | None: ...
    @property
    def trusted_documents_only(self) -> bool: ...
    @property
    def documents(self) -> DocumentsView: ...
    @property
    def budget(self) -> BudgetView: ...

    def allowed_fields(self, kind: ActorKind) -> frozenset[str] | None:
        """The field coordinates the client may select; ``None`` when no allow-list applies."""


class StreamView(Protocol):
    """A running subscription's polls, as its resolver drives them (``gateway/streams.py``, ADR 0023)."""

    @property
    def started_at(self) -> datetime:
        """When the subscription started (aware UTC): what changed before it is never an event."""

    @property
    def overlap_s(self) -> float:
        """How far back each poll looks before the previous one began, for late commits and clock drift."""

    async def next_poll(self) -> datetime:
        """Wait for the next poll, then start it: fresh loaders and deadline, access decided again.

        Returns when the poll began (aware UTC). Raises the coded error that ends the stream: a refusal
        (a block made since the last poll), a source the decision needs failing, an expired token.
        """

    async def record(self) -> None:
        """Write the access record of the event about to be sent (what was marked returned); raises when it
        cannot be written, and the event is then not sent."""


class ResolverContext(Protocol):
    """The request context, as resolvers use it."""

    @property
    def client(self) -> ClientView | None: ...
    @property
    def explorer(self) -> bool:
        """The caller may introspect the schema."""

    @property
    def actor(self) -> ActorView: ...
    @property
    def loaders(self) -> Loaders: ...
    @property
    def access_plan(self) -> AccessReader | None: ...
    @property
    def access_log(self) -> AccessLogReader: ...
    @property
    def writers(self) -> Writers: ...
    @property
    def protections(self) -> Protections:
        """The request's name and address protection decisions, one per patient."""

    @property
    def partial_errors(self) -> list[GraphQLError]:
        """Errors for fields that still return data (one endpoint of many failed)."""

    @property
    def stream(self) -> StreamView | None:
        """A subscription's polls (``None`` for a query or mutation)."""

    @property
    def patient_keys(self) -> PatientKeys:
        """The deployment's patient keys (``Patient.id``, ``_entities``)."""


Info: TypeAlias = StrawberryInfo[ResolverContext, None]


def plan_of(info: Info) -> AccessReader:
    """The access plan; its absence is a wiring error, so fail closed."""
    plan = info.context.access_plan
    if plan is None:
        raise RuntimeError("access was not decided for this request")
    return plan


def require(info: Info, cpr: str, category: DataCategory) -> DecisionView:
    """Raise unless the caller may see ``category`` of ``cpr`` (the plan's coded error)."""
    return plan_of(info).require(cpr, category)


def report(info: Info, errors: list[SourceError]) -> None:
    """Add coded errors at this field's path while the field still returns its partial data."""
    path = info.path.as_list()
    for error in errors:
        info.context.partial_errors.append(GraphQLError(str(error), path=path, original_error=error))


def returned(info: Info, cpr: str, category: DataCategory) -> None:
    """Record that ``category`` of ``cpr`` is in the response."""
    plan_of(info).mark_returned(cpr, category)


async def write_through(info: Info, cpr: str, category: DataCategory, write: Awaitable[T]) -> T:
    """Make one upstream write of ``category`` for ``cpr`` and note how it ended, for the access record.

    The write is noted as attempted before it goes out and as made (returned) when the source confirms
    it. A refusal by the source (:class:`SourceRejected`: validation or version), or a write never sent
    (:class:`SourceCircuitOpen`: its breaker is open; :class:`SourceSkipped`: the request's deadline
    left no time, ADR 0024), made no change; any other failure (a timeout, a 5xx, a lost connection)
    leaves the write *unconfirmed*: the source may have made the change, and the record says so rather
    than "nothing changed" (ADR 0007).
    """
    plan = plan_of(info)
    plan.mark_attempted(cpr, category)
    try:
        result = await write
    except (SourceRejected, SourceCircuitOpen, SourceSkipped):
        plan.mark_attempted(cpr, category, attempted=False)
        raise
    plan.mark_returned(cpr, category)
    return result


async def load(info: Info, cpr: str, category: DataCategory, loader: KeyLoader[V]) -> V | None:
    """Raise unless the caller may see ``category`` of ``cpr``; load it; note it went out when found."""
    require(info, cpr, category)
    record = await loader.get(cpr)
    if record is not None:
        returned(info, cpr, category)
    return record


async def gather(info: Info, category: DataCategory, loader: GroupLoader[T], key: GatherKey) -> Gathered[T]:
    """Load a shared section through ``loader``; report failed endpoints; note what went out."""
    found = await loader.get(key)
    report(info, found.errors)
    returned(info, key.cpr, category)
    return found
