"""The per-request context: built once per request, inside the running loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError

from auth.actor import Actor
from auth.gate import AccessServices
from auth.plan import AccessPlan
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    """Everything one request carries; satisfies the gate's and the resolvers' protocols."""

    actor: Actor
    request_id: str
    loaders: Loaders
    access: AccessServices
    access_plan: AccessPlan | None = field(default=None)
    partial_errors: list[GraphQLError] = field(default_factory=list)
    """Errors of fields that still returned data; added to the response's ``errors``."""
