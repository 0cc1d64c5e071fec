"""Read the parsed operation: which patients it touches and which data categories of each.

The walk follows the executable operation exactly as execution will: the operation graphql-core
selects and the variable values it coerces (:func:`prepare_operation`, defaults applied), fragments
and inline fragments, ``@skip``/``@include`` with their variables, aliases (the same patient twice is
one patient), every argument read as the resolver will get it. Fields carry their meaning as schema
directives declared by the resolvers: a field with a ``patientArgument`` directive opens a patient
scope (its argument names the CPR), and a field with a ``category`` directive reveals that category
of the patient in scope. ``auth/`` reads these from the schema, so it never imports ``resolvers/``.
Federation's ``Query._entities`` opens one patient scope per representation whose key opens
(:func:`sources.patient_keys.patient_of`, the function its resolver reads them with; ADR 0022).
The walk is linear in the size of the document (each fragment once per patient scope), and the
patient scopes of an operation are bounded (aliases; representations, by ``gateway.cost``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
)
from graphql.execution import Executor, VariableValues

from auth.plan import Override
from auth.representations import REPRESENTATIONS_FIELD
from sources.audit import OverrideGround
from sources.categories import DataCategory
from sources.identifiers import is_cpr
from sources.patient_keys import BadRepresentation, PatientKeys, patient_of

PatientCategories = dict[str, set[DataCategory]]
"""CPR number → the categories the operation selects for that patient."""

ENTITIES_FIELD = "Query._entities"
"""Apollo Federation's entry point: each representation names a patient by key, as ``patient(cpr:)`` does."""

REASON_MIN, REASON_MAX = 10, 500
"""An override's reason must say something, and fit in the access record."""


@dataclass(frozen=True, slots=True)
class BadOverride:
    """An override argument that cannot be accepted; ``argument`` names the part that is wrong."""

    argument: str
    message: str


@dataclass
class OperationRead:
    """What the gate needs from one operation."""

    patients: PatientCategories = field(default_factory=dict)
    overrides: dict[str, Override | BadOverride] = field(default_factory=dict)
    """CPR number → the override sent with that patient (two different ones for one patient: a :class:`BadOverride`)."""
    denied_fields: set[str] = field(default_factory=set)
    """Field coordinates the client may not select; their subtrees are not read."""
    refused: PatientCategories = field(default_factory=dict)
    """CPR number → the categories of the fields the client may not select, in that patient's scope."""
    refused_patients: set[str] = field(default_factory=set)
    """Patients named only by fields the client may not select (counted in a security event, never kept)."""
    representations: bool = False
    """The operation selects whom the caller may act for (``me.actsFor``)."""
    invalid_keys: int = 0
    """Federation representations whose key did not open: forged, altered or another deployment's."""


def parse_override(value: object) -> Override | BadOverride:
    """An override from its coerced value (``{"ground": enum member, "reason": str}``), checked before anything runs."""
    if not isinstance(value, Mapping):
        return BadOverride("override", "the override must be an object with a ground and a reason")
    ground_value = value.get("ground")
    while isinstance(ground_value, Enum) and not isinstance(ground_value, OverrideGround):
        ground_value = ground_value.value  # the schema's enum wraps the domain's
    try:
        ground = OverrideGround(str(ground_value))
    except ValueError:
        return BadOverride("override.ground", "the ground must be PATIENT_CONSENT or NOT_CONTACTABLE")
    reason = value.get("reason")
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        return BadOverride("override.reason", f"the reason must be {REASON_MIN} to {REASON_MAX} characters")
    if not reason.isprintable():
        return BadOverride("override.reason", "the reason must be text, without control characters")
    return Override(ground, reason)


def field_category(field: GraphQLField) -> DataCategory | None:
    """The data category a schema field reveals, from its ``category`` schema directive."""
    for directive in _directives(field):
        value = getattr(directive, "category", None)
        value = getattr(value, "value", None) if not isinstance(value, DataCategory) else value
        if isinstance(value, DataCategory):
            return value
    return None


def patient_argument(field: GraphQLField) -> str | None:
    """The argument naming the patient, when the field opens a patient scope."""
    return _directive_str(field, "patient_argument")


def override_argument(field: GraphQLField) -> str | None:
    """The argument carrying a professional's override, when the field takes one."""
    return _directive_str(field, "override_argument")


def _directive_str(field: GraphQLField, name: str) -> str | None:
    for directive in _directives(field):
        value = getattr(directive, name, None)
        if isinstance(value, str):
            return value
    return None


def _directives(field: GraphQLField) -> list[Any]:
    definition = (field.extensions or {}).get("strawberry-definition")
    return list(getattr(definition, "directives", None) or [])


@dataclass(frozen=True, slots=True)
class PreparedOperation:
    """The operation execution will run, with its variable values coerced as execution coerces them."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: VariableValues
    """graphql-core's coerced values: defaults applied, every scalar parsed (the CPR scalar's check too)."""


def prepare_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    raw_variables: Mapping[str, Any] | None,
) -> PreparedOperation | list[GraphQLError]:
    """Select the operation and coerce its variables with graphql-core's ``Executor.build``, as execution does.

    Returns the request errors execution would return instead (no such operation, several operations
    and no name, variables that do not coerce); then nothing is decided and nothing runs.
    """
    variables = dict(raw_variables or {})
    built = Executor.build(schema, document, raw_variable_values=variables, operation_name=operation_name)
    if isinstance(built, list):
        return built
    return PreparedOperation(built.operation, built.fragment_definitions, built.variable_values)


class OperationReader:
    """Walks the prepared operation against the schema, reading arguments exactly as execution will.

    Arguments and ``@skip``/``@include`` conditions are read with graphql-core's ``get_argument_values``
    over the coerced variables, the function execution uses. The walk is linear in the size of the
    document: a fragment is walked once per patient scope it is spread in (what it reveals depends on
    that scope and nothing else), however many times it is spread. ``visits`` counts the selections
    looked at.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        prepared: PreparedOperation,
        allowed: Callable[[str], bool] | None = None,
        patient_keys: PatientKeys | None = None,
    ) -> None:
        self._schema = schema
        self._allowed = allowed
        self._keys = patient_keys
        """Opens the keys of ``_entities``; without it no representation names a patient (fail closed)."""
        self._prepared = prepared
        self._walked: set[tuple[str, str | None]] = set()
        self.visits = 0

    def patients(self) -> PatientCategories:
        """Every patient the operation touches, with the categories it selects."""
        return self.read().patients

    def read(self) -> OperationRead:
        """Patients with their categories, overrides, and fields the client may not select."""
        found = OperationRead()
        operation = self._prepared.operation
        root = self._schema.get_root_type(operation.operation)
        if root is not None:
            self._walk(root, operation.selection_set, None, found)
        return found

    def _walk(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None, cpr: str | None, found: OperationRead
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            self.visits += 1
            if not isinstance(selection, FieldNode | InlineFragmentNode | FragmentSpreadNode):
                continue
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                self._field(parent, selection, cpr, found)
            elif isinstance(selection, InlineFragmentNode):
                target = self._type_named(selection.type_condition.name.value) if selection.type_condition else parent
                self._walk(target or parent, selection.selection_set, cpr, found)
            else:
                name = selection.name.value
                fragment = self._prepared.fragments.get(name)
                if fragment is None or (name, cpr) in self._walked:
                    continue  # walked in this scope already (or a cycle): it reveals nothing new
                self._walked.add((name, cpr))
                target = self._type_named(fragment.type_condition.name.value) or parent
                self._walk(target, fragment.selection_set, cpr, found)

    def _field(self, parent: GraphQLNamedType, node: FieldNode, cpr: str | None, found: OperationRead) -> None:
        if not isinstance(parent, GraphQLObjectType):
            return
        field = parent.fields.get(node.name.value)
        if field is None:
            return
        coordinate = f"{parent.name}.{node.name.value}"
        if self._allowed is not None and not self._allowed(coordinate):
            found.denied_fields.add(coordinate)
            if cpr is not None and (refused := field_category(field)) is not None:
                found.refused.setdefault(cpr, set()).add(refused)  # recorded as denied for that patient
            if (named := self._patient_named(field, node)) is not None:
                found.refused_patients.add(named[0])
            if coordinate == ENTITIES_FIELD:
                found.refused_patients.update(self._entities(field, node, found))
            return  # never resolved, so nothing below it is decided or fetched
        if coordinate == REPRESENTATIONS_FIELD:
            found.representations = True
        if coordinate == ENTITIES_FIELD:
            for entity in self._entities(field, node, found):
                found.patients.setdefault(entity, set())
                self._walk(get_named_type(field.type), node.selection_set, entity, found)
            return
        if patient_argument(field) is not None:
            named = self._patient_named(field, node)
            if named is None:
                return  # execution refuses the field before its resolver runs
            cpr, arguments = named
            found.patients.setdefault(cpr, set())
            self._override(field, arguments, cpr, found)
        category = field_category(field)
        if category is not None and cpr is not None:
            found.patients.setdefault(cpr, set()).add(category)
        self._walk(get_named_type(field.type), node.selection_set, cpr, found)

    def _patient_named(self, field: GraphQLField, node: FieldNode) -> tuple[str, dict[str, Any]] | None:
        """The CPR number a patient-scope field names, with the field's arguments, when it names a valid one."""
        argument = patient_argument(field)
        arguments = self._arguments(field, node) if argument is not None else None
        asked = arguments.get(argument) if arguments is not None and argument is not None else None
        return (asked, arguments or {}) if isinstance(asked, str) and is_cpr(asked) else None

    def _entities(self, field: GraphQLField, node: FieldNode, found: OperationRead) -> list[str]:
        """The CPR numbers ``_entities`` names, once each, in order; keys that do not open are counted."""
        arguments = self._arguments(field, node)
        representations = arguments.get("representations") if arguments is not None else None
        if self._keys is None or not isinstance(representations, list):
            return []
        named: dict[str, None] = {}
        for representation in representations:
            cpr = patient_of(representation, self._keys)
            if isinstance(cpr, BadRepresentation):
                found.invalid_keys += int(cpr.forged)
            else:
                named[cpr] = None
        return list(named)

    def _override(self, field: GraphQLField, arguments: Mapping[str, Any], cpr: str, found: OperationRead) -> None:
        name = override_argument(field)
        value = arguments.get(name) if name is not None else None
        if value is None:
            return  # an omitted override or null: no override
        sent = parse_override(value)
        earlier = found.overrides.get(cpr)
        if earlier is not None and earlier != sent:
            sent = BadOverride("override", "the operation sends different overrides for one patient")
        found.overrides[cpr] = sent

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
        """The field's arguments as its resolver gets them; ``None`` when execution would refuse them."""
        try:
            return get_argument_values(definition, node, self._prepared.variables)
        except GraphQLError:
            return None

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        """``@skip`` and ``@include`` as graphql-core's ``should_include_node`` reads them."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            definition = GraphQLSkipDirective if name == "skip" else GraphQLIncludeDirective
            try:
                condition = get_argument_values(definition, directive, self._prepared.variables).get("if")
            except GraphQLError:
                return False  # execution refuses it too; nothing below runs
            if (name == "skip" and condition is True) or (name == "include" and condition is False):
                return False
        return True

    def _type_named(self, name: str) -> GraphQLNamedType | None:
        return self._schema.get_type(name)
