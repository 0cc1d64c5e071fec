"""What each field costs, as the IBM GraphQL Cost Directives spec writes it: ``@cost`` and ``@listSize``.

The spec (ibm.github.io/graphql-specs/cost-spec.html) gives a field a ``weight`` (a decimal string)
and a list field its size: the value of a slicing argument (``first``), else ``assumedSize``; with
``sizedFields`` the size applies to those child fields (a page's ``nodes``). The gateway's static
analysis (:mod:`gateway.cost`) reads these directives from the schema; clients can read them in
``schema.graphql`` to know in advance what an operation costs.

Weights here count upstream work: a field that asks a national source weighs about the requests it
sends (appointments ask six endpoints and DDS), every other object field weighs 1 and every scalar 0
(the spec's defaults), and a mutation 10. The table is one place for the whole graph, applied to
the strawberry fields by :func:`annotate` before the schema is built; a test checks that every list
field of the schema has a ``@listSize``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import strawberry
from strawberry.schema_directive import Location
from strawberry.types.base import (
    StrawberryContainer,
    StrawberryObjectDefinition,
    StrawberryTypeVar,
    get_object_definition,
)
from strawberry.utils.str_converters import to_camel_case

MAX_REPRESENTATIONS: Final = 30
"""The default cap on representations in one operation (``PATIENTOVERBLIK_MAX_REPRESENTATIONS``)."""

COST_DIRECTIVE: Final = "cost"
LIST_SIZE_DIRECTIVE: Final = "listSize"


@strawberry.schema_directive(
    locations=[
        Location.ARGUMENT_DEFINITION,
        Location.ENUM,
        Location.FIELD_DEFINITION,
        Location.INPUT_FIELD_DEFINITION,
        Location.OBJECT,
        Location.SCALAR,
    ],
    name=COST_DIRECTIVE,
    description=(
        "IBM GraphQL Cost Directives: the weight (a decimal) added to an operation's cost for each time the "
        "field is selected. Without it an object field weighs 1, a scalar 0 and a mutation 10."
    ),
)
class Cost:
    weight: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name=LIST_SIZE_DIRECTIVE,
    description=(
        "IBM GraphQL Cost Directives: how many items a list field returns, for cost analysis: the value of a "
        "slicing argument, else assumedSize; with sizedFields, the size of those child fields instead."
    ),
)
class ListSize:
    assumed_size: int | None = strawberry.UNSET
    slicing_arguments: list[str] | None = strawberry.UNSET
    sized_fields: list[str] | None = strawberry.UNSET
    require_one_slicing_argument: bool | None = True


def list_size(assumed: int | None = None, slicing: list[str] | None = None, sized: list[str] | None = None) -> ListSize:
    """A ``@listSize`` printing only what it sets (the slicing argument is optional: each has a default)."""
    return ListSize(
        assumed_size=strawberry.UNSET if assumed is None else assumed,
        slicing_arguments=strawberry.UNSET if slicing is None else slicing,
        sized_fields=strawberry.UNSET if sized is None else sized,
        require_one_slicing_argument=strawberry.UNSET,
    )


WEIGHTS: Final[dict[str, str]] = {
    "Query.patient": "3",
    "Query._entities": "3",
    "Patient.person": "1",
    "Patient.generalPractitioner": "2",
    "Patient.masterCard": "2",
    "Patient.appointments": "10",
    "Patient.plans": "4",
    "Patient.goals": "4",
    "Patient.diagnoses": "4",
    "Patient.blocks": "1",
    "Patient.accessLog": "2",
    "Me.actsFor": "3",
    "Mutation.updateMasterCard": "10",
    "Mutation.createBlock": "10",
    "Mutation.revokeBlock": "10",
    "Subscription.appointmentsChanged": "10",
}
"""Field coordinate → weight, where it differs from the spec's default (about one per upstream request)."""

PAGED: Final = list_size(slicing=["first"], sized=["nodes"])
"""A connection field: its page holds ``first`` nodes (``nodes`` is sized in :mod:`resolvers.paging`)."""

LIST_SIZES: Final[dict[str, ListSize]] = {
    "Query._entities": list_size(MAX_REPRESENTATIONS),  # the gateway counts the representations given
    "Patient.accessLog": PAGED,
    "Patient.plans": PAGED,
    "Patient.goals": PAGED,
    "Patient.diagnoses": PAGED,
    "Patient.blocks": PAGED,
    "GeneralPractitioner.doctors": PAGED,
    "Me.actsFor": PAGED,
    "Appointments.list": PAGED,
    "ClientAccess.trustedDocuments": list_size(50),
    "Appointments.days": list_size(90),
    "Appointments.weeks": list_size(14),
    "AppointmentWeek.days": list_size(7),
    "AppointmentDay.appointments": list_size(3),
    "Appointments.sources": list_size(6),
    "CarePlan.interventions": list_size(10),
    "Goal.subGoals": list_size(5),
    "MasterCard.relatives": list_size(20),
    "AppointmentChanges.appointments": list_size(20),
    "AppointmentChanges.sources": list_size(6),
}
"""Field coordinate → list size. Lists of scalars and enums weigh nothing and need none."""


def _definitions(roots: Iterable[type]) -> dict[str, StrawberryObjectDefinition]:
    """Every object type reachable from ``roots``, by GraphQL name; a generic's specialisations (the connections)
    are walked through to their node types (their own fields are sized in :mod:`resolvers.paging`)."""
    found: dict[str, StrawberryObjectDefinition] = {}
    seen: set[int] = set()
    pending = [d for d in (get_object_definition(root) for root in roots) if d is not None]
    while pending:
        definition = pending.pop()
        if id(definition) in seen:
            continue
        seen.add(id(definition))
        if not definition.specialized_type_var_map:
            found.setdefault(definition.name, definition)
        for field in definition.fields:
            inner = field.type
            while isinstance(inner, StrawberryContainer):
                inner = inner.of_type
            if isinstance(inner, StrawberryTypeVar):
                inner = (definition.specialized_type_var_map or {}).get(inner.type_var.__name__, inner)
            below = get_object_definition(inner)
            if below is not None:
                pending.append(below)
    return found


def annotate(roots: Iterable[type]) -> None:
    """Put the table's ``@cost`` and ``@listSize`` on the fields of the types reachable from ``roots``.

    Idempotent. Raises ``LookupError`` when the table names a field the schema does not have.
    """
    definitions = _definitions(roots)
    wanted: dict[str, list[Cost | ListSize]] = {c: [Cost(weight=w)] for c, w in WEIGHTS.items()}
    for coordinate, size in LIST_SIZES.items():
        wanted.setdefault(coordinate, []).append(size)
    for coordinate, directives in wanted.items():
        type_name, _, field_name = coordinate.partition(".")
        definition = definitions.get(type_name)
        fields = {f.graphql_name or to_camel_case(f.python_name): f for f in definition.fields} if definition else {}
        if field_name not in fields:
            raise LookupError(f"the cost table names {coordinate}, which the schema does not have")
        field = fields[field_name]
        present = {type(d) for d in field.directives}
        field.directives.extend(d for d in directives if type(d) not in present)
