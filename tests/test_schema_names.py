"""The naming rules of ADR 0025, where they are mechanical: one list shape, one name per concept.

Read from the schema the code builds, so a new field that breaks a rule fails here with the rule's
name; the rules that need judgement (a term's standard name) are in the ADR.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)

from gateway.cost import _directive
from gateway.schema import build_schema
from resolvers.cost import ListSize
from resolvers.paging import DEFAULT_PAGE

SCHEMA = build_schema()._schema

BOUNDED_LISTS = {
    "Appointments.sources": "one per configured appointment endpoint",
    "CarePlanConnection.sources": "one per configured plan endpoint",
    "GoalConnection.sources": "one per configured plan endpoint",
    "DiagnosisConnection.sources": "one per configured plan endpoint",
    "Appointments.days": "a calendar view of the range the caller asked for (at most 3653 days)",
    "Appointments.weeks": "a calendar view of the range the caller asked for",
    "AppointmentWeek.days": "seven days",
    "AppointmentDay.appointments": "a calendar view: one day of the range the caller asked for",
    "Goal.subGoals": "a view of the goals list: the sub-goals of one goal",
    "CarePlan.interventions": "part of the plan (FHIR CarePlan.activity), read and shown whole with it",
    "MasterCard.relatives": "part of the master card, written whole with it (at most 20)",
    "ClientAccess.trustedDocuments": "the client's manifest: configuration",
    "AppointmentChanges.appointments": "one event: what changed in one poll interval, pushed whole (ADR 0023)",
    "AppointmentChanges.sources": "one per configured appointment endpoint",
    "Query._entities": "Apollo Federation's entry point: one per representation given, at most maxRepresentations",
}
"""Lists of objects outside a connection, each with what bounds it: anything else that can grow is a connection."""

EXTERNAL_IDENTIFIERS = {"sorId", "sorIds", "organisationSorId", "authorizationId", "clientId"}
"""Identifiers a national register or the token issuer gives (text, named for the register); every other
``…Id`` is an ID of this graph."""

SOR_NAMES = {"sorId", "sorIds", "organisationSorId"}
PERSON_NAME_PARTS = {"givenName", "familyName", "name"}
"""A person's name is ``name`` (whole), ``givenName`` and ``familyName`` (FHIR HumanName), nothing else."""
NOT_LIST_NAMES = {"items", "entries", "edges", "list_", "results", "elements"}
"""Names a list of a connection's items is never given: it is ``nodes``."""


def _object_types() -> list[GraphQLObjectType]:
    return [t for name, t in SCHEMA.type_map.items() if isinstance(t, GraphQLObjectType) and not name.startswith("__")]


def _names() -> Iterator[tuple[str, str, GraphQLField | GraphQLInputField | GraphQLArgument]]:
    """Every field, input field and argument: (coordinate, name, definition)."""
    for name, named in SCHEMA.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType):
            for field_name, field in named.fields.items():
                yield f"{name}.{field_name}", field_name, field
                for argument_name, argument in field.args.items():
                    yield f"{name}.{field_name}({argument_name}:)", argument_name, argument
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                yield f"{name}.{field_name}", field_name, input_field


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


def test_every_list_of_objects_that_can_grow_is_a_connection() -> None:
    unbounded = [
        f"{owner.name}.{name}"
        for owner in _object_types()
        for name, field in owner.fields.items()
        if isinstance(get_nullable_type(field.type), GraphQLList)
        and not is_leaf_type(get_named_type(field.type))
        and not (_is_connection(owner) and name == "nodes")
        and f"{owner.name}.{name}" not in BOUNDED_LISTS
    ]
    assert unbounded == [], "make these connections, or say in BOUNDED_LISTS what bounds them"
    assert set(BOUNDED_LISTS) <= {c for c, _, _ in _names()}, "BOUNDED_LISTS names a field the schema lacks"


def test_every_connection_has_the_one_shape() -> None:
    connections = [t for t in _object_types() if _is_connection(t)]
    assert connections
    for connection in connections:
        nodes = connection.fields["nodes"].type
        assert isinstance(nodes, GraphQLNonNull) and isinstance(nodes.of_type, GraphQLList), connection.name
        assert str(connection.fields["pageInfo"].type) == "PageInfo!", connection.name
        assert str(connection.fields["totalCount"].type) == "Int!", connection.name
        assert isinstance(_directive(connection.fields["nodes"], ListSize), ListSize), connection.name
    assert [
        t.name for t in _object_types() if not _is_connection(t) and {"nodes", "pageInfo", "totalCount"} & set(t.fields)
    ] == [], "a page's fields belong to a connection"


def test_every_connection_field_pages_with_first_and_after_and_is_sized_by_first() -> None:
    wrong = []
    for owner in _object_types():
        for name, field in owner.fields.items():
            if not _is_connection(get_named_type(field.type)):
                continue
            first, after = field.args.get("first"), field.args.get("after")
            size = _directive(field, ListSize)
            if (
                first is None
                or str(first.type) != "Int!"
                or first.default_value != DEFAULT_PAGE
                or after is None
                or str(after.type) != "String"
                or not isinstance(size, ListSize)
                or size.slicing_arguments != ["first"]
                or size.sized_fields != ["nodes"]
            ):
                wrong.append(f"{owner.name}.{name}")
    assert wrong == []


def test_a_list_is_never_named_otherwise() -> None:
    assert [c for c, name, _ in _names() if name in NOT_LIST_NAMES] == []


def test_a_sor_id_has_one_name() -> None:
    """The SOR-ID (Sundhedsvæsenets Organisationsregister) is `sorId`, `sorIds` for several, and
    `organisationSorId` on a type that is not the organisation."""
    found = [c for c, name, _ in _names() if "sor" in {w.lower() for w in re.findall(r"[a-z]+|[A-Z][a-z]*", name)}]
    assert found
    assert [c for c in found if c.rpartition(".")[2].split("(")[-1].rstrip(":)") not in SOR_NAMES] == []


def test_identifiers_are_ids_but_the_registers() -> None:
    def fits(name: str, definition: GraphQLField | GraphQLInputField | GraphQLArgument) -> bool:
        if name == "id":
            return str(definition.type) == "ID!"
        kind = get_named_type(definition.type).name
        if name in EXTERNAL_IDENTIFIERS:
            return kind == "String"
        return kind == "ID" or not re.search(r"Ids?$", name)

    assert [c for c, name, definition in _names() if not fits(name, definition)] == []


def test_a_cpr_number_is_the_cpr_scalar_and_named_so() -> None:
    wrong = [
        c
        for c, name, definition in _names()
        if (name == "cpr") != (get_named_type(definition.type).name == "CPR") and name != "replacedBy"
    ]
    assert wrong == []


def test_a_persons_name_parts_are_fhirs() -> None:
    parts = {"firstName", "lastName", "surname", "forename", "middleName", "fullName"}
    assert [c for c, name, _ in _names() if name in parts] == []


def test_a_period_is_start_and_end_and_a_range_asked_for_is_from_and_to() -> None:
    """A span the data holds is a `Period` (FHIR: `start`, `end`), given the same way (`PeriodInput`); `from` and
    `to` are the arguments of a range a caller asks for, echoed by the type the field returns."""
    period, given = SCHEMA.type_map["Period"], SCHEMA.type_map["PeriodInput"]
    assert isinstance(period, GraphQLObjectType) and isinstance(given, GraphQLInputObjectType)
    assert set(period.fields) == set(given.fields) == {"start", "end"}
    echoes = {
        get_named_type(field.type).name
        for owner in _object_types()
        for field in owner.fields.values()
        if {"from", "to"} <= set(field.args)
    }
    stray = [
        c
        for c, name, _ in _names()
        if name in {"from", "to", "validFrom", "validTo", "startDate"}
        and "(" not in c
        and c.partition(".")[0] not in echoes
    ]
    assert stray == []
