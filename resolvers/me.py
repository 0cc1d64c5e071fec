"""``me``: who the caller is, whom they may act for, and what their client may select and run.

``me`` is the caller's own data and always allowed (``auth/fields.py``): a vendor system finds out
here what its registration lets it do (``client``), and a page offers a picker of whom a citizen
may act for (``actsFor``) without guessing CPR numbers. ``actsFor`` is decided by the consent gate
before execution (``auth/representations.py``); resolvers only read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Protocol

import strawberry

from resolvers.access_log_words import in_order
from resolvers.context import Info, plan_of, report
from resolvers.paging import DEFAULT_PAGE, INDEX, Connection, Cursor, First, page
from resolvers.scalars import CPR
from resolvers.vocabulary import AccessorKind, ActorKind, DataCategory

POWER_SCOPES_TEXT = (
    "`overview` (the overview), `master_card` (read and edit the master card), `access_log` (Min Log), "
    "`blocks` (read and manage Min Spærring)"
)


@strawberry.type(
    description=(
        "Someone the caller may act for: a child under 15 (custody, forældremyndighed), a ward (guardianship, "
        "værgemål) or the giver of a valid digital power of attorney (fuldmagt). Listed from CPR and Digital "
        "Fuldmagt by the same rules access is decided by; told to the caller only, so it leaves no record in "
        "the person's Min Log."
    )
)
class Representation:
    cpr: CPR = strawberry.field(description="The person's CPR number: pass it to `patient(cpr:)`.")
    name: str | None = strawberry.field(
        description="The person's name; null when CPR could not be read or the name is protected from a parent."
    )
    kinds: list[AccessorKind] = strawberry.field(
        description="How the caller represents the person: GUARDIAN, REPRESENTATIVE (fuldmagt) or PARENT."
    )
    categories: list[DataCategory] = strawberry.field(
        description="What the caller may see or change of the person (a parent: the limited view of a child)."
    )
    scopes: list[str] = strawberry.field(
        description=f"The scopes of the caller's valid powers of attorney from the person: {POWER_SCOPES_TEXT}."
    )
    until: date | None = strawberry.field(
        description=(
            "The last day the caller may act for the person (the day before a child's 15th birthday, a power's "
            "end date); null when it does not end."
        )
    )


@strawberry.type(description="A document of the client's trusted documents (persisted operations).")
class TrustedDocument:
    id: strawberry.ID = strawberry.field(description='Send it as `{"documentId": id}`.')
    sha256: str = strawberry.field(
        description="SHA-256 of the document's text, hex: `documentId: \"sha256:<hex>\"` or APQ's `sha256Hash`."
    )
    operation_names: list[str] = strawberry.field(description="The named operations of the document.")


@strawberry.type(description="What the caller may spend: per operation and per rate-limit window.")
class ClientLimits:
    max_cost: int = strawberry.field(
        description="The most one operation may cost (@cost, @listSize): above it QUERY_TOO_COMPLEX, limit maxCost."
    )
    requests_per_window: int = strawberry.field(description="Requests per window: above it RATE_LIMITED (HTTP 429).")
    cost_per_window: int = strawberry.field(description="Points of cost per window: above it RATE_LIMITED (HTTP 429).")
    window_seconds: int = strawberry.field(description="The window's length in seconds.")


@strawberry.type(
    description=(
        "The calling client's registration, for the calling client only: the fields it may select, the trusted "
        "documents it may run by id, and its limits."
    )
)
class ClientAccess:
    client_id: str | None = strawberry.field(description="The client the token was issued to (azp).")
    registered: bool = strawberry.field(description="The client is registered with the gateway.")
    name: str | None = strawberry.field(description="The registered client's name, as Min Log shows it.")
    allowed_fields: list[str] | None = strawberry.field(
        description=(
            "Field coordinates the client may select (`Type.field`, or `Type.*` for a whole type); a field outside "
            "them is FORBIDDEN with extensions.field. A system whose client is not registered may select only "
            "`me`. Null: no allow-list applies (a person's token of a front end that is not registered)."
        )
    )
    trusted_documents_only: bool = strawberry.field(
        description="The client may run only its trusted documents; any other is DOCUMENT_NOT_TRUSTED (HTTP 403)."
    )
    trusted_documents: list[TrustedDocument] = strawberry.field(
        description="The trusted documents registered for the client (its manifest)."
    )
    limits: ClientLimits = strawberry.field(description="The caller's cost and rate limits.")
    schema_exploration: bool = strawberry.field(
        description="The caller may introspect the schema and gets 'Did you mean' suggestions in errors."
    )


class RepresentationView(Protocol):
    @property
    def cpr(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def kinds(self) -> Sequence[AccessorKind]: ...
    @property
    def categories(self) -> frozenset[DataCategory]: ...
    @property
    def scopes(self) -> frozenset[str]: ...
    @property
    def until(self) -> date | None: ...


ACTS_FOR_CURSOR = Cursor("actsFor", INDEX)
"""``Me.actsFor(after:)``: a cursor of the list of representations."""


@strawberry.type(description="Who the gateway thinks the caller is, from the verified token.")
class Me:
    kind: ActorKind = strawberry.field(description="The kind of caller.")
    cpr: CPR | None = strawberry.field(description="A citizen's own CPR number.")
    authorization_id: str | None = strawberry.field(
        description="A professional's autorisations-ID (for an assistant: the responsible professional's)."
    )
    organisation_sor_id: str | None = strawberry.field(description="The SOR-ID of the professional's organisation.")
    organisation_name: str | None = strawberry.field(description="The name of the professional's organisation.")
    profession: str | None = strawberry.field(description="The professional's profession (faggruppe), in Danish.")
    name: str | None = strawberry.field(description="The caller's name, as the token gives it.")
    assistant_name: str | None = strawberry.field(
        description="The assistant (medhjælp) acting for the professional, when one is."
    )
    client_id: str | None = strawberry.field(description="The client application the token was issued to.")

    @strawberry.field(
        description=(
            "Whom a citizen may act for, so a page can offer a picker; empty for other callers. A source that "
            "fails leaves out what it would tell, with SOURCE_UNAVAILABLE naming it."
        )
    )
    def acts_for(
        self, info: Info, first: First = DEFAULT_PAGE, after: Annotated[str | None, ACTS_FOR_CURSOR.argument] = None
    ) -> Connection[Representation]:
        found = plan_of(info).representations
        if found is not None:
            report(info, list(found.failed))
        shown = page(found.listed if found is not None else (), first, after, cursor=ACTS_FOR_CURSOR)
        return Connection(nodes=[_representation(r) for r in shown.items], page_info=shown.info, total=shown.total)

    @strawberry.field(description="The calling client: the fields it may select, its trusted documents and limits.")
    def client(self, info: Info) -> ClientAccess:
        context = info.context
        client = context.client
        limits = client.budget if client is not None else None
        documents = client.documents.documents if client is not None else ()
        return ClientAccess(
            client_id=self.client_id,
            registered=client is not None and client.registered,
            name=client.name if client is not None else None,
            allowed_fields=_allowed_fields(info),
            trusted_documents_only=client is not None and client.trusted_documents_only,
            trusted_documents=[
                TrustedDocument(id=strawberry.ID(d.id), sha256=d.sha256, operation_names=list(d.operation_names))
                for d in documents
            ],
            limits=ClientLimits(
                max_cost=limits.max_cost if limits else 0,
                requests_per_window=limits.requests if limits else 0,
                cost_per_window=limits.cost if limits else 0,
                window_seconds=limits.window_s if limits else 0,
            ),
            schema_exploration=context.explorer,
        )


def _allowed_fields(info: Info) -> list[str] | None:
    client = info.context.client
    fields = client.allowed_fields(info.context.actor.kind) if client is not None else None
    return sorted(fields) if fields is not None else None


def _representation(found: RepresentationView) -> Representation:
    return Representation(
        cpr=CPR(found.cpr),
        name=found.name,
        kinds=list(found.kinds),
        categories=in_order(found.categories),
        scopes=sorted(found.scopes),
        until=found.until,
    )
