"""The calling client: its registration, trusted documents, budget, and whether it may explore the schema.

Built once at start from ``PATIENTOVERBLIK_CLIENTS`` (:func:`load_clients`): each registration's
field allow-list is checked against the schema (a type or field it does not have, such as a name a
release renamed, would silently refuse what the client needs: ADR 0025) and its trusted documents
are read (:mod:`gateway.manifests`) and checked (:mod:`gateway.trusted`), so a bad registration
stops the gateway with one line.
Per request :meth:`ClientDirectory.client_of` names the caller's :class:`Client`:

- a token whose client (``azp``) is registered gets that registration, its manifest and its budget;
- any other caller (an unregistered client, a token without one, no token) gets the defaults and no
  manifest; a *system* token of an unregistered client may select only ``me`` (``auth/fields.py``).

The rate-limit key (:meth:`ClientDirectory.rate_key`) is the client for a system (one vendor system,
one budget), the person for a person's token (each user of a front end has the budget), and the
address for a caller without a token (ADR 0018).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import assert_never

from graphql import GraphQLObjectType, GraphQLSchema

from auth.actor import Actor, ActorKind
from auth.fields import ALWAYS_ALLOWED, ClientRegistration
from gateway.limits import Limits
from gateway.manifests import ManifestError, read_manifest
from gateway.rate_limit import Budget
from gateway.trusted import TrustedDocuments, check_manifest

logger = logging.getLogger("patientoverblik.clients")

DEMO_CLIENT_ID = "epj-odense"
"""The demo vendor system registered by default (``gateway.settings.DEMO_CLIENTS``)."""


class Introspection(StrEnum):
    """Who may explore the schema: introspection and "Did you mean" suggestions (OWASP GraphQL cheat sheet)."""

    OPEN = "open"
    """Everyone, anonymous callers too: the demo and development."""
    DEVELOPERS = "developers"
    """Only tokens of clients registered with ``developer: true``: production."""


@dataclass(frozen=True)
class ClientSpec:
    """One registration as configured: what :func:`load_clients` needs of ``ClientSettings``."""

    registration: ClientRegistration
    budget: Budget
    trusted_documents: Path | None = None
    trusted_documents_only: bool = False
    developer: bool = False


@dataclass(frozen=True)
class Client:
    """What the gateway knows of the calling client for one request."""

    client_id: str | None
    registration: ClientRegistration | None
    budget: Budget
    documents: TrustedDocuments = field(default_factory=TrustedDocuments)
    trusted_documents_only: bool = False
    developer: bool = False

    @property
    def registered(self) -> bool:
        return self.registration is not None

    @property
    def name(self) -> str | None:
        return self.registration.name if self.registration is not None else None

    def allowed_fields(self, kind: ActorKind) -> frozenset[str] | None:
        """The coordinates the client may select, as the consent gate applies them; ``None``: no allow-list
        (a person's token of an unregistered front end)."""
        if self.registration is not None:
            return self.registration.fields | ALWAYS_ALLOWED
        return ALWAYS_ALLOWED if kind is ActorKind.SYSTEM else None


@dataclass(frozen=True)
class ClientDirectory:
    """Every registered client, the default budget, and the introspection policy."""

    clients: Mapping[str, Client] = field(default_factory=dict)
    default_budget: Budget = field(default_factory=Budget)
    introspection: Introspection = Introspection.OPEN

    def client_of(self, actor: Actor) -> Client:
        """The caller's client: its registration, or the defaults."""
        found = self.clients.get(actor.client_id) if actor.client_id is not None else None
        return found if found is not None else Client(actor.client_id, None, self.default_budget)

    def explorer(self, client: Client) -> bool:
        """Whether the caller may introspect the schema and get "Did you mean" suggestions."""
        match self.introspection:
            case Introspection.OPEN:
                return True
            case Introspection.DEVELOPERS:
                return client.developer
            case _:
                assert_never(self.introspection)

    @staticmethod
    def rate_key(actor: Actor, address: str | None) -> str:
        """The label a caller's requests and cost are counted under (hashed before it is stored)."""
        match actor.kind:
            case ActorKind.SYSTEM:
                return f"client:{actor.client_id}"
            case ActorKind.CITIZEN | ActorKind.PROFESSIONAL:
                return f"caller:{actor.client_id}:{actor.identity}"
            case ActorKind.ANONYMOUS:
                return f"address:{address or 'unknown'}"
            case _:
                assert_never(actor.kind)


def load_clients(
    specs: Mapping[str, ClientSpec],
    schema: GraphQLSchema,
    limits: Limits,
    *,
    default_budget: Budget,
    introspection: Introspection,
    replaced_defaults: bool,
) -> ClientDirectory:
    """Every client with its checked allow-list and manifest; :class:`gateway.trusted.ManifestError` for a bad one.

    ``replaced_defaults``: ``PATIENTOVERBLIK_CLIENTS`` was set, so the built-in registrations are gone;
    a warning says so when the demo client is not among the new ones.
    """
    if replaced_defaults and DEMO_CLIENT_ID not in specs:
        logger.warning(
            "PATIENTOVERBLIK_CLIENTS replaces the built-in registrations: the demo client %r is not registered "
            "(add it to the JSON to keep it)",
            DEMO_CLIENT_ID,
        )
    clients: dict[str, Client] = {}
    for client_id, spec in specs.items():
        unknown = sorted(c for c in spec.registration.fields if not _in_schema(schema, c))
        if unknown:
            raise ManifestError(
                f"client {client_id!r}: its field allow-list names {', '.join(unknown)}, which the schema does not "
                "have (a renamed type or field? CHANGELOG.md's migration guide gives the new names)"
            )
        documents = TrustedDocuments()
        if spec.trusted_documents is not None:
            read = read_manifest(client_id, spec.trusted_documents)
            documents = check_manifest(client_id, read, schema, spec.registration.allows, limits)
        clients[client_id] = Client(
            client_id, spec.registration, spec.budget, documents, spec.trusted_documents_only, spec.developer
        )
    return ClientDirectory(clients, default_budget, introspection)


def _in_schema(schema: GraphQLSchema, coordinate: str) -> bool:
    """Whether ``Type.field`` or ``Type.*`` names an object type (and field) of ``schema``."""
    type_name, _, field_name = coordinate.partition(".")
    found = schema.get_type(type_name)
    return isinstance(found, GraphQLObjectType) and (field_name == "*" or field_name in found.fields)
