"""Every field that can carry a protected detail is covered by redaction: the schema is walked, not listed.

Name and address protection (``resolvers/protection.py``, ADR 0012) is declared in the schema: a type
whose values carry an address, a place that reveals where the patient lives, or a person's contact
says so with ``@protectedDetail``; every field that returns such a type, or is such a detail, carries
the directive and the redacting field extension. These tests read the directives from the built
schema, as the consent gate reads ``@category``, so a new field of such a type fails here until it is
covered; and they redact a value of every protected type filled with marker text.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, get_args, get_origin

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.private import is_private
from strawberry.types.unset import UNSET

from resolvers.paging import Connection, PageInfo
from resolvers.protection import (
    Redactable,
    RedactProtected,
    graphql_name,
    kept_fields,
    places,
)
from sources.audit import AccessorKind, AccessRecord
from tests.protected_schema import (
    SCHEMA,
    field_declaration,
    object_types,
    protected_types,
    strawberry_field,
    strawberry_type,
    type_declaration,
)
from tests.records import DOCTOR_READS_HANS

EXPECTED_PROTECTED_TYPES = {
    "AccessLogEntry",
    "AppointmentLocation",
    "Doctor",
    "GeneralPractitioner",
    "Organisation",
    "Person",
    "PostalAddress",
    "Relative",
    "TemporaryAddress",
}
"""The types known to carry protected details; the schema may declare more, never fewer."""

SUGGESTIVE = frozenset({
    "address", "phone", "telecom", "email", "contact", "name", "dentist", "relative", "location", "organisation",
    "practice", "practitioner", "sor", "room", "doctor", "performer", "city", "postal", "municipality", "home",
    "who", "behalf", "system",
})  # fmt: skip
"""Words of field names that suggest an address, a place or a contact."""

NOT_PROTECTED = {
    "Me.name": "the caller's own identity, not a patient's data",
    "Me.organisationSorId": "the caller's own organisation",
    "Me.organisationName": "the caller's own organisation",
    "Me.assistantName": "the caller's own assistant",
    "Coding.system": "a code system's URI",
    "Diagnosis.codeSystem": "a code system",
    "SourceStatus.source": "the name of a configured endpoint",
    "Representation.name": "whom the caller represents; auth/representations.py leaves it out where the "
    "relation does not see protected names (a parent: ADR 0012), tests/auth/test_representations.py",
    "ClientAccess.name": "the calling client's registered name",
    "TrustedDocument.operationNames": "operation names of the client's own manifest",
}
"""Fields whose names look like protected details but are not a patient's; each with the reason."""


def test_the_known_protected_types_are_declared() -> None:
    assert {t.name for t in protected_types()} >= EXPECTED_PROTECTED_TYPES


def test_every_field_returning_or_being_a_protected_detail_is_redacted() -> None:
    """A connection's nodes are covered where the connection is returned: by a redacting field, or by a protected
    owner's own redaction (its page is a resolver over what the owner holds, tested below)."""
    uncovered: list[str] = []
    for owner in object_types():
        if type_declaration(owner) is not None:
            continue  # the owner's own redaction covers its fields (tested below)
        for name, field in owner.fields.items():
            carried = type_declaration(get_named_type(field.type)) or field_declaration(field)
            if carried is None:
                continue
            if _is_connection(owner) and name == "nodes":
                uncovered += [f"{owner.name}.{name} (by {where})" for where in _returning(owner, carried.detail)]
            elif not _redacts(owner, field, carried.detail):
                uncovered.append(f"{owner.name}.{name}")
    assert uncovered == []


def test_a_redacted_page_shows_its_nodes_redacted_and_keeps_where_it_ends() -> None:
    entry = _filled(strawberry_type(SCHEMA.type_map["AccessLogEntry"]))  # type: ignore[arg-type]
    info = PageInfo(has_next_page=True, has_previous_page=False, start_cursor="s", end_cursor="e")
    page = Connection(nodes=[entry], page_info=info, total=7)

    redacted = page.redacted()

    assert redacted.nodes == [entry.redacted()] and redacted.nodes[0] != entry
    assert (redacted.page_info, redacted.total) == (info, 7)
    assert places(page) == places(entry) and not page.holds_nothing()
    assert Connection(nodes=[], page_info=info, total=0).holds_nothing()


def _is_connection(owner: GraphQLObjectType) -> bool:
    definition = strawberry_type(owner)
    return definition is not None and issubclass(definition.origin, Connection)


def _redacts(owner: GraphQLObjectType, field: Any, detail: Any) -> bool:
    """The field carries the detail's ``@protectedDetail`` and redacts, on a type that names its patient."""
    origin = strawberry_type(owner)
    declared = field_declaration(field)
    redacting = any(isinstance(e, RedactProtected) for e in strawberry_field(field).extensions)
    names_patient = origin is not None and "cpr" in {f.name for f in dataclasses.fields(origin.origin)}
    return declared is not None and declared.detail == detail and redacting and names_patient


def _returning(connection: GraphQLObjectType, detail: Any) -> list[str]:
    """The fields returning ``connection`` that do not redact it for ``detail`` (a protected owner does)."""
    return [
        f"{owner.name}.{name}"
        for owner in object_types()
        for name, field in owner.fields.items()
        if get_named_type(field.type) is connection
        and type_declaration(owner) is None
        and not _redacts(owner, field, detail)
    ]


def test_fields_whose_names_suggest_a_protected_detail_are_declared_or_reviewed() -> None:
    undeclared = []
    for owner in object_types():
        if type_declaration(owner) is not None:
            continue
        for name, field in owner.fields.items():
            coordinate = f"{owner.name}.{name}"
            words = {w.lower().removesuffix("s") for w in re.findall(r"[a-z]+|[A-Z][a-z]*", name)}
            if not words & SUGGESTIVE or coordinate in NOT_PROTECTED:
                continue
            if type_declaration(get_named_type(field.type)) is None and field_declaration(field) is None:
                undeclared.append(coordinate)
    assert undeclared == []


@pytest.mark.parametrize("named", protected_types(), ids=lambda t: t.name)
def test_a_protected_type_can_be_redacted_and_keeps_only_fields_it_has(named: GraphQLObjectType) -> None:
    definition = strawberry_type(named)
    assert definition is not None and issubclass(definition.origin, Redactable)
    kept = kept_fields(definition.origin)
    assert kept <= set(named.fields), "kept names a field the type does not have"
    if "redacted" in vars(definition.origin):
        return  # redacts by hand: checked with marker values below
    for name, field in named.fields.items():
        if name in kept or strawberry_field(field).base_resolver is not None:
            continue
        kind = field.type
        blankable = not isinstance(kind, GraphQLNonNull) or isinstance(kind.of_type, GraphQLList)
        blankable = blankable or (isinstance(kind.of_type, GraphQLScalarType) and kind.of_type.name in ("String", "ID"))
        assert blankable, f"{named.name}.{name} is required and not text: keep it or redact the type by hand"


@pytest.mark.parametrize("named", protected_types(), ids=lambda t: t.name)
def test_a_protected_value_filled_with_markers_keeps_no_marker_outside_its_kept_fields(
    named: GraphQLObjectType,
) -> None:
    definition = strawberry_type(named)
    assert definition is not None
    value = _filled(definition)
    assert isinstance(value, Redactable) and value.reveals()

    redacted = value.redacted()

    markers = _markers(definition, value)
    assert markers, "the filled value holds no text to hide"
    assert [m for m in markers if m in _texts(redacted)] == []


def _filled(definition: StrawberryObjectDefinition, depth: int = 0) -> Any:
    """A value of the type with every field set: text as ``<Type>.<field>`` markers, enums to their last member;
    a private list of values (what a page is cut from) holds one filled value."""
    values: dict[str, Any] = {}
    for spec in definition.fields:
        if is_private(spec.type):
            if spec.python_name == "record":
                values["record"] = _access_record()
            elif get_origin(inner := get_args(spec.type)[0]) is list:
                values[spec.python_name] = [_value(get_args(inner)[0], f"{definition.name}.{spec.python_name}", depth)]
            continue
        if spec.base_resolver is not None:
            continue
        values[spec.python_name] = _value(spec.type, f"{definition.name}.{spec.python_name}", depth)
    return definition.origin(**values)


def _value(kind: Any, marker: str, depth: int) -> Any:
    if isinstance(kind, StrawberryOptional):
        return _value(kind.of_type, marker, depth)
    if isinstance(kind, StrawberryList):
        return [_value(kind.of_type, marker, depth)]
    if isinstance(kind, StrawberryEnumDefinition):
        return list(kind.wrapped_cls)[-1]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return list(kind)[-1]
    if kind is bool:
        return True
    if kind is int:
        return 1
    if kind is date:
        return date(2020, 2, 2)
    if kind is datetime:
        return datetime(2020, 2, 2, tzinfo=UTC)
    nested = getattr(kind, "__strawberry_definition__", None)
    if isinstance(nested, StrawberryObjectDefinition):
        return _filled(nested, depth + 1)
    return marker  # str, ID, CPR


def _markers(definition: StrawberryObjectDefinition, value: Any) -> list[str]:
    """The marker text of every field the type does not keep (nested values and pages included)."""
    kept = kept_fields(definition.origin)
    return [
        text
        for spec in definition.fields
        if not is_private(spec.type) and graphql_name(spec) not in kept
        for text in _texts(_field_value(value, spec))
    ]


def _field_value(value: Any, spec: Any) -> Any:
    """What the field gives: its value, or what its resolver gives with its arguments' defaults (a first page);
    ``None`` for a resolver that needs more."""
    if spec.base_resolver is None:
        return getattr(value, spec.python_name)
    arguments = spec.base_resolver.arguments
    if any(a.default is UNSET for a in arguments) or spec.base_resolver.reserved_parameters:
        return None
    found = getattr(value, spec.python_name)()
    return None if inspect.isawaitable(found) else found


def _texts(value: Any) -> set[str]:
    """Every text inside ``value``: fields, nested values, lists, and what resolvers without arguments give."""
    if isinstance(value, Enum):
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return set().union(*(_texts(v) for v in value)) if value else set()
    definition = getattr(value, "__strawberry_definition__", None)
    if not isinstance(definition, StrawberryObjectDefinition):
        return set()
    found: set[str] = set()
    for spec in definition.fields:
        if not is_private(spec.type):
            found |= _texts(_field_value(value, spec))
    return found


def _access_record() -> AccessRecord:
    """An assistant's access: every text a protected patient's log could leak is a marker."""
    return dataclasses.replace(
        DOCTOR_READS_HANS,
        actor_kind=AccessorKind.ASSISTANT,
        actor_name="AccessLogEntry.who",
        organisation_sor="AccessLogEntry.organisation_sor_id",
        organisation_name="AccessLogEntry.organisation_name",
        client_id="AccessLogEntry.system",
        acting_for_id="AccessRecord.acting_for_id",
        acting_for_name="AccessLogEntry.on_behalf_of",
        override_reason="AccessOverride.reason",
    )
