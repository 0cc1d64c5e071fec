"""The per-request context: built once per request, inside the running loop."""

from __future__ import annotations

from dataclasses import dataclass, field

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
