"""Apollo Federation v2: the subgraph's ``_service`` and ``_entities`` fields (ADR 0022).

``Patient`` is the graph's one entity, keyed by ``Patient.id``, an opaque key sealed from the CPR
number under the deployment's secret (:mod:`sources.patient_keys`). A router joins other graphs on it:
it asks ``_entities`` for the patients other subgraphs name by key. A representation is a patient
selection like ``patient(cpr:)``: the consent gate opened the keys and decided every patient before
execution, so this resolver only reads the plan, as ``Query.patient`` does, one representation at a
time: a denied or malformed one is ``null`` with its coded error at ``_entities.<index>``, the others
come back.
"""

from __future__ import annotations

from typing import Annotated, Final

import strawberry
from strawberry.annotation import StrawberryAnnotation
from strawberry.federation.schema import FederationAny
from strawberry.printer import print_schema
from strawberry.types.union import StrawberryUnion

from resolvers.context import Info, plan_of
from resolvers.cost import MAX_REPRESENTATIONS
from resolvers.errors import InvalidArgument
from resolvers.patient import Patient
from resolvers.scalars import CPR
from sources.patient_keys import BadRepresentation, patient_of

FEDERATION_VERSION: Final = "2.9"
"""The Federation version the subgraph links (2.10 and later are refused by Guild composition)."""

ANY_SCALAR = strawberry.scalar(
    name="_Any",
    description=(
        'Apollo Federation: an entity representation, `{__typename: "Patient", id: <Patient.id>}`, as a router '
        "sends it to `_entities`."
    ),
    serialize=lambda value: value,
    parse_value=lambda value: value,
)

ENTITY: Final = StrawberryUnion(
    "_Entity",
    type_annotations=(StrawberryAnnotation(Patient),),
    description="Apollo Federation: every entity type of this subgraph (only `Patient`).",
)


@strawberry.type(
    name="_Service",
    description="Apollo Federation: what a router or composition tool reads of this subgraph.",
)
class Service:
    @strawberry.field(
        description="The subgraph's schema in SDL with its Federation directives, as `schema.graphql` holds it."
    )
    def sdl(self, info: Info) -> str:
        return print_schema(info.schema)


@strawberry.type(description="The Apollo Federation v2 fields every subgraph has.")
class FederationQuery:
    @strawberry.field(
        name="_entities",
        description=(
            "Apollo Federation: the patients a router names by key (`Patient.id`), in the order given. Each "
            "representation is decided like `patient(cpr:)`, before anything is resolved, and recorded in the "
            "patient's access log; a denied one is null with its FORBIDDEN, CONSENT_DENIED or UNAUTHENTICATED "
            "error at `_entities.<index>`, a malformed one or a key this deployment did not make null with "
            f"BAD_USER_INPUT. At most {MAX_REPRESENTATIONS} representations an operation (MAX_REPRESENTATIONS): "
            "QUERY_TOO_COMPLEX."
        ),
        graphql_type=list[ENTITY | None],  # type: ignore[valid-type]
    )
    def entities(
        self,
        info: Info,
        representations: Annotated[
            list[FederationAny],
            strawberry.argument(description='The patients, each `{__typename: "Patient", id: <Patient.id>}`.'),
        ],
    ) -> list[Patient | Exception]:
        keys, plan = info.context.patient_keys, plan_of(info)
        found: list[Patient | Exception] = []
        for index, representation in enumerate(representations):
            cpr = patient_of(representation, keys)
            if isinstance(cpr, BadRepresentation):
                found.append(InvalidArgument(f"representations.{index}{cpr.part}", cpr.message))
                continue
            try:
                found.append(Patient(cpr=CPR(plan.require_patient(cpr))))
            except Exception as refusal:  # the plan's coded refusal, for this representation only
                found.append(refusal)
        return found

    @strawberry.field(
        name="_service",
        description=(
            "Apollo Federation: this subgraph's SDL for composition. Offered to those who may introspect the "
            "schema (PATIENTOVERBLIK_INTROSPECTION); `schema.graphql` holds the same text."
        ),
    )
    def service(self) -> Service:
        return Service()
