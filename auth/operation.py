"""Read the parsed operation: which patients it touches and which data categories of each.

The walk follows the executable operation exactly as execution will: fragments and inline
fragments, ``@skip``/``@include`` with their variables, aliases (the same patient twice is one
patient). Fields carry their meaning as schema directives declared by the resolvers: a field with a
``patientArgument`` directive opens a patient scope (its argument names the CPR), and a field with a
``category`` directive reveals that category of the patient in scope. ``auth/`` reads these from the
schema, so it never imports ``resolvers/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Undefined,
    VariableNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)

from auth.plan import Override
from sources.audit import OverrideGround
from sources.categories import DataCategory
from sources.identifiers import is_cpr

PatientCategories = dict[str, set[DataCategory]]
"""CPR number → the categories the operation selects for that patient."""

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
    """CPR number → the override sent with that patient (the last one wins when sent twice)."""
    denied_fields: set[str] = field(default_factory=set)
    """Field coordinates the client may not select; their subtrees are not read."""
    refused: PatientCategories = field(default_factory=dict)
    """CPR number → the categories of the fields the client may not select, in that patient's scope."""


def parse_override(value: object) -> Override | BadOverride:
    """An override from its GraphQL value (literal or variable), checked before anything runs."""
    if not isinstance(value, Mapping):
        return BadOverride("override", "the override must be an object with a ground and a reason")
    try:
        ground = OverrideGround(str(value.get("ground")))
    except ValueError:
        return BadOverride("override.ground", "the ground must be PATIENT_CONSENT or NOT_CONTACTABLE")
    reason = value.get("reason")
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        return BadOverride("override.reason", f"the reason must be {REASON_MIN} to {REASON_MAX} characters")
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


class OperationReader:
    """Walks one operation of a document against the schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        allowed: Callable[[str], bool] | None = None,
    ) -> None:
        self._schema = schema
        self._allowed = allowed
        self._variables = dict(variables or {})
        self._fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)

    def patients(self) -> PatientCategories:
        """Every patient the operation touches, with the categories it selects."""
        return self.read().patients

    def read(self) -> OperationRead:
        """Patients with their categories, overrides, and fields the client may not select."""
        found = OperationRead()
        if self._operation is None:
            return found
        root = self._schema.get_root_type(self._operation.operation)
        if root is not None:
            self._walk(root, self._operation.selection_set, None, found, frozenset())
        return found

    def _walk(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        cpr: str | None,
        found: OperationRead,
        visiting: frozenset[str],
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if not isinstance(selection, FieldNode | InlineFragmentNode | FragmentSpreadNode):
                continue
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                self._field(parent, selection, cpr, found, visiting)
            elif isinstance(selection, InlineFragmentNode):
                target = self._type_named(selection.type_condition.name.value) if selection.type_condition else parent
                self._walk(target or parent, selection.selection_set, cpr, found, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                target = self._type_named(fragment.type_condition.name.value) or parent
                self._walk(target, fragment.selection_set, cpr, found, visiting | {name})

    def _field(
        self,
        parent: GraphQLNamedType,
        node: FieldNode,
        cpr: str | None,
        found: OperationRead,
        visiting: frozenset[str],
    ) -> None:
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
            return  # never resolved, so nothing below it is decided or fetched
        argument = patient_argument(field)
        if argument is not None:
            cpr = self._argument_value(node, argument)
            if cpr is None:
                return  # not a valid CPR number: the scalar rejects it before any resolver runs
            found.patients.setdefault(cpr, set())
            self._override(node, field, cpr, found)
        category = field_category(field)
        if category is not None and cpr is not None:
            found.patients.setdefault(cpr, set()).add(category)
        self._walk(get_named_type(field.type), node.selection_set, cpr, found, visiting)

    def _override(self, node: FieldNode, field: GraphQLField, cpr: str, found: OperationRead) -> None:
        name = override_argument(field)
        for argument in node.arguments or ():
            if name is not None and argument.name.value == name:
                value = value_from_ast_untyped(argument.value, self._variables)
                if value is not None and value is not Undefined:  # an omitted variable or null: no override
                    found.overrides[cpr] = parse_override(value)

    def _argument_value(self, node: FieldNode, name: str) -> str | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value: object = None
            if isinstance(argument.value, StringValueNode):
                value = argument.value.value
            elif isinstance(argument.value, VariableNode):
                value = self._variables.get(argument.value.name.value)
            return value if isinstance(value, str) and is_cpr(value) else None
        return None

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = self._condition(directive)
            if (name == "skip" and condition is True) or (name == "include" and condition is False):
                return False
        return True

    def _condition(self, directive: DirectiveNode) -> bool | None:
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            if isinstance(argument.value, BooleanValueNode):
                return argument.value.value
            if isinstance(argument.value, VariableNode):
                value = self._variables.get(argument.value.name.value)
                return value if isinstance(value, bool) else None
        return None

    def _type_named(self, name: str) -> GraphQLNamedType | None:
        return self._schema.get_type(name)
