"""Vendor systems see only the fields their client registration allows.

A :class:`ClientRegistration` lists field coordinates (``Patient.appointments``) or whole types
(``Person.*``). The consent gate reads the operation with the registration's :meth:`allows`: a field
outside it is put on the plan's ``denied_fields`` and nothing below it is decided or fetched.
:class:`FieldGuard` then refuses to resolve exactly those fields (``FORBIDDEN`` with
``extensions.field``), so the response keeps its shape and the rest of the data comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from auth.errors import FieldNotAllowed

ALWAYS_ALLOWED = frozenset(
    {
        "Query.me",
        "Me.*",
        "RepresentationConnection.*",
        "Representation.*",
        "PageInfo.*",
        "ClientAccess.*",
        "TrustedDocument.*",
        "ClientLimits.*",
    }
)
"""Every client may ask who it is, whom it acts for, and what its registration allows (``me``); and how a page of
any list it may select ends (``PageInfo``)."""


@dataclass(frozen=True, slots=True)
class ClientRegistration:
    """A vendor system's registration: its name, its field allow-list, and whether it is an authority."""

    client_id: str
    name: str
    fields: frozenset[str]
    authority: bool = False
    """Whitelisted as an authority: sees protected names and addresses (as NSP's CVR whitelist)."""

    def allows(self, coordinate: str) -> bool:
        """Whether the client may select the field ``Type.field``."""
        type_name = coordinate.partition(".")[0]
        allowed = self.fields | ALWAYS_ALLOWED
        return coordinate in allowed or f"{type_name}.*" in allowed


UNREGISTERED = ClientRegistration("unregistered", "unregistered client", frozenset())
"""What a system whose client is not registered may select: only :data:`ALWAYS_ALLOWED`."""


class FieldGuard(SchemaExtension):
    """Refuse to resolve the fields the plan marks as not allowed for this client."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
    ) -> Any:
        plan = getattr(info.context, "access_plan", None)
        denied = plan.denied_fields if plan is not None else None
        if denied:
            coordinate = f"{info.parent_type.name}.{info.field_name}"
            if coordinate in denied:
                raise FieldNotAllowed(refusal_reason(info.context), coordinate)
        return _next(root, info, *args, **kwargs)


def refusal_reason(context: Any) -> str:
    """Why a field is not allowed: the client is not registered at all, or its registration leaves the field out."""
    actor = getattr(context, "actor", None)
    client_id = getattr(actor, "client_id", None)
    access = getattr(context, "access", None)
    if client_id is None or client_id not in getattr(access, "clients", {}):
        return (
            f"your client {client_id or '(none)'!r} is not registered with the gateway, so it may select only `me`; "
            "the operator registers clients (PATIENTOVERBLIK_CLIENTS)"
        )
    return "your client registration does not allow this field; `me { client { allowedFields } }` lists those it does"
