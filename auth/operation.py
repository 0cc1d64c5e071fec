"""Read the parsed operation: which patients it touches and which data categories of each.

The walk follows the executable operation exactly as execution will: fragments and inline
fragments, ``@skip``/``@include`` with their variables, aliases (the same patient twice is one
patient). Fields carry their meaning as schema directives declared by the resolvers: a field with a
``patientArgument`` directive opens a patient scope (its argument names the CPR), and a field with a
``category`` directive reveals that category of the patient in scope. ``auth/`` reads these from the
schema, so it never imports ``resolvers/``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    VariableNode,
    get_named_type,
    get_operation_ast,
)

from sources.categories import DataCategory
from sources.identifiers import is_cpr

PatientCategories = dict[str, set[DataCategory]]
"""CPR number → the categories the operation selects for that patient."""


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
    for directive in _directives(field):
        value = getattr(directive, "patient_argument", None)
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
    ) -> None:
        self._schema = schema
        self._variables = dict(variables or {})
        self._fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self._operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)

    def patients(self) -> PatientCategories:
        """Every patient the operation touches, with the categories it selects."""
        found: PatientCategories = {}
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
        found: PatientCategories,
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
        found: PatientCategories,
        visiting: frozenset[str],
    ) -> None:
        if not isinstance(parent, GraphQLObjectType):
            return
        field = parent.fields.get(node.name.value)
        if field is None:
            return
        argument = patient_argument(field)
        if argument is not None:
            cpr = self._argument_value(node, argument)
            if cpr is None:
                return  # not a valid CPR number: the scalar rejects it before any resolver runs
            found.setdefault(cpr, set())
        category = field_category(field)
        if category is not None and cpr is not None:
            found.setdefault(cpr, set()).add(category)
        self._walk(get_named_type(field.type), node.selection_set, cpr, found, visiting)

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
