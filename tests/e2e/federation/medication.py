"""A second, small subgraph for the router test: a medication register that joins the patient overview.

It holds prescriptions (drug names, synthetic) by CPR number and knows the overview's patient keys of
the patients it lists, as a graph joining the overview would have kept them. It gives:

- ``Query.prescriptions``: every prescription with its patient as a key (``Patient @key(fields: "id")``),
  so the router asks the overview's ``_entities`` for the patient's data;
- ``Patient.prescriptions``, which ``@requires(fields: "cpr")``: the router first gets ``cpr`` from the
  overview (through its consent gate) and then sends ``{__typename, id, cpr}`` here.

It records what it received (the ``Authorization`` header of each request, and the representations), so
the test can see the router forwarded the caller's header and what reached this graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NewType

import strawberry
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

CPR = NewType("CPR", str)
CPR_SCALAR = strawberry.scalar(
    name="CPR",
    description="A Danish personal identification number, as the overview's `CPR` scalar.",
    serialize=str,
    parse_value=str,
)


@dataclass
class Register:
    """The medication register's data, and what it received."""

    drugs: Mapping[str, Sequence[str]]
    """CPR number → the drugs prescribed."""
    keys: Mapping[str, str]
    """CPR number → the overview's key of that patient."""
    authorizations: list[str | None] = field(default_factory=list)
    representations: list[dict[str, Any]] = field(default_factory=list)


def _register(info: Info) -> Register:
    found: Register = info.context["register"]
    return found


@strawberry.type(description="A prescription.")
class Prescription:
    drug: str = strawberry.field(description="The drug.")
    patient: Patient | None = strawberry.field(description="Whom it is for.")


@strawberry.federation.type(keys=["id"], description="The overview's patient, joined by key.")
class Patient:
    id: strawberry.ID = strawberry.field(description="The overview's key.")
    cpr: CPR = strawberry.federation.field(external=True, description="From the overview (never served from here).")

    @strawberry.federation.field(requires=["cpr"], description="The patient's prescriptions.")
    def prescriptions(self, info: Info) -> list[Prescription]:
        drugs = _register(info).drugs.get(self.cpr, ())
        return [Prescription(drug=drug, patient=self) for drug in drugs]

    @classmethod
    def resolve_reference(cls, info: Info, **representation: Any) -> Patient:
        _register(info).representations.append({"__typename": "Patient", **representation})
        return Patient(id=strawberry.ID(representation["id"]), cpr=CPR(representation.get("cpr", "")))


@strawberry.type
class Query:
    @strawberry.field(description="Every prescription of the register.")
    def prescriptions(self, info: Info) -> list[Prescription]:
        register = _register(info)
        return [
            Prescription(drug=drug, patient=Patient(id=strawberry.ID(register.keys[cpr]), cpr=CPR("")))
            for cpr, drugs in register.drugs.items()
            for drug in drugs
        ]


SCHEMA = strawberry.federation.Schema(
    query=Query, types=[Patient], federation_version="2.9", config=StrawberryConfig(scalar_map={CPR: CPR_SCALAR})
)


def app(register: Register) -> GraphQL[Any, Any]:
    """The medication subgraph over ``register``, as an ASGI app that records what it receives."""

    class Recording(GraphQL[Any, Any]):
        async def get_context(self, request: Any, response: Any) -> Any:
            register.authorizations.append(request.headers.get("authorization"))
            return {"request": request, "response": response, "register": register}

    return Recording(SCHEMA)
