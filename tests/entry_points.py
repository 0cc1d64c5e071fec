"""The two ways a caller selects a patient, so that every access-rule test runs through both (ADR 0022).

``patient(cpr:)`` names the patient by CPR number; Federation's ``_entities`` names them by key, as a
router does. :func:`through` rewrites an operation written with ``patient(cpr:)`` into the same
operation through ``_entities`` (each ``patient`` field becomes ``_entities`` with one representation,
aliased as the field was, its selection under ``... on Patient``; a CPR given as a variable becomes a
key given as a variable, its default sealed too), and :func:`as_patient` reads the answer back into
the shape ``patient(cpr:)`` gives (``_entities``' one item in place of the list, error paths without
the index), so a test's assertions hold for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pytest
from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from sources.identifiers import is_cpr
from sources.patient_keys import PatientKeys


class EntryPoint(StrEnum):
    """How an operation names its patients."""

    PATIENT = "patient"
    """``patient(cpr:)``: by CPR number."""
    ENTITIES = "entities"
    """``_entities(representations:)``: by the patient's key, as a Federation router does."""


BOTH = pytest.mark.parametrize("entry_point", list(EntryPoint), indirect=True)
"""Run a test through both entry points (its fixtures take ``entry_point``, e.g. the e2e ``gateway``)."""


def _key_variable(name: str) -> str:
    return f"{name}Key"


class _Rewrite(Visitor):
    def __init__(self, keys: PatientKeys, variables: Mapping[str, Any]) -> None:
        super().__init__()
        self.keys = keys
        self.variables = variables
        self.key_variables: set[str] = set()
        self.aliases: set[str] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> FieldNode | None:
        if node.name.value != "patient":
            return None
        arguments = {argument.name.value: argument.value for argument in node.arguments or ()}
        if not self._absent(arguments.pop("override", None)) or set(arguments) != {"cpr"}:
            pytest.skip("a representation carries no override: a værdispring goes through patient(cpr:, override:)")
        assert node.selection_set is not None, "a patient field has a selection"
        alias = node.alias.value if node.alias else "patient"
        self.aliases.add(alias)
        representation = ObjectValueNode(
            fields=(
                ObjectFieldNode(name=NameNode(value="__typename"), value=StringValueNode(value="Patient")),
                ObjectFieldNode(name=NameNode(value="id"), value=self._key(arguments["cpr"])),
            )
        )
        below = InlineFragmentNode(
            type_condition=NamedTypeNode(name=NameNode(value="Patient")),
            directives=(),
            selection_set=node.selection_set,
        )
        return FieldNode(
            alias=NameNode(value=alias),
            name=NameNode(value="_entities"),
            arguments=(
                ArgumentNode(name=NameNode(value="representations"), value=ListValueNode(values=(representation,))),
            ),
            directives=node.directives,
            selection_set=SelectionSetNode(selections=(below,)),
        )

    def _absent(self, value: ValueNode | None) -> bool:
        """An argument that is not there: left out, ``null``, or a variable sent as (or left) null."""
        if isinstance(value, VariableNode):
            return self.variables.get(value.name.value) is None
        return value is None or isinstance(value, NullValueNode)

    def _key(self, cpr: ValueNode) -> ValueNode:
        if isinstance(cpr, VariableNode):
            self.key_variables.add(cpr.name.value)
            return VariableNode(name=NameNode(value=_key_variable(cpr.name.value)))
        assert isinstance(cpr, StringValueNode), "a CPR literal"
        return StringValueNode(value=self._sealed(cpr.value))

    def _sealed(self, cpr: object) -> str:
        if not isinstance(cpr, str) or not is_cpr(cpr):
            pytest.skip("the CPR scalar refuses this value before any entry point is reached")
        return self.keys.key_of(cpr)


def _used_variables(document: DocumentNode) -> set[str]:
    used: set[str] = set()

    class Uses(Visitor):
        def enter_variable_definition(self, *_args: Any) -> bool:
            return False  # a definition is no use (its default names no variable)

        def enter_variable(self, node: VariableNode, *_args: Any) -> None:
            used.add(node.name.value)

    visit(document, Uses())
    return used


def through(
    entry_point: EntryPoint, query: str, variables: Mapping[str, Any] | None, keys: PatientKeys
) -> tuple[str, dict[str, Any] | None]:
    """``query`` and ``variables`` with every ``patient(cpr:)`` selection made through ``entry_point``."""
    if entry_point is EntryPoint.PATIENT:
        return query, dict(variables) if variables is not None else None
    rewrite = _Rewrite(keys, variables or {})
    document = visit(parse(query), rewrite)
    sent = dict(variables or {})
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            definition = _with_key_variables(definition, rewrite, sent)
        definitions.append(definition)
    document = DocumentNode(definitions=tuple(definitions))
    used = _used_variables(document)
    for name in rewrite.key_variables - used:
        sent.pop(name, None)
    document = DocumentNode(definitions=tuple(_without_unused(d, used) for d in document.definitions))
    return print_ast(document), sent


def _with_key_variables(
    operation: OperationDefinitionNode, rewrite: _Rewrite, sent: dict[str, Any]
) -> OperationDefinitionNode:
    """The operation with a key variable beside each CPR variable the rewrite replaced; ``sent`` gets its value."""
    added = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in rewrite.key_variables:
            continue
        default = definition.default_value
        key_default = None
        if default is not None:
            assert isinstance(default, StringValueNode), "a CPR default is a string"
            key_default = StringValueNode(value=rewrite._sealed(default.value))
        if name in sent:
            sent[_key_variable(name)] = rewrite._sealed(sent[name])
        added.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=_key_variable(name))),
                type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="ID"))),
                default_value=key_default,
                directives=(),
            )
        )
    return _with_variables(operation, (*(operation.variable_definitions or ()), *added))


def _without_unused(definition: Any, used: set[str]) -> Any:
    if not isinstance(definition, OperationDefinitionNode):
        return definition
    kept = tuple(d for d in definition.variable_definitions or () if d.variable.name.value in used)
    return _with_variables(definition, kept)


def _with_variables(
    operation: OperationDefinitionNode, definitions: tuple[VariableDefinitionNode, ...]
) -> OperationDefinitionNode:
    return OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=definitions,
        directives=operation.directives,
        selection_set=operation.selection_set,
    )


def as_patient(entry_point: EntryPoint, query: str, body: dict[str, Any]) -> dict[str, Any]:
    """The answer as ``patient(cpr:)`` gives it: each ``_entities`` list's one item in its place, and
    ``[alias, 0, …]`` error paths as ``[alias, …]``."""
    if entry_point is EntryPoint.PATIENT:
        return body
    aliases = _patient_aliases(query)
    data = body.get("data")
    if isinstance(data, dict):
        body["data"] = {
            name: value[0] if name in aliases and isinstance(value, list) and len(value) == 1 else value
            for name, value in data.items()
        }
    for error in body.get("errors") or ():
        path = error.get("path")
        if isinstance(path, list) and len(path) >= 2 and path[0] in aliases and path[1] == 0:
            error["path"] = [path[0], *path[2:]]
    return body


def _patient_aliases(query: str) -> set[str]:
    aliases: set[str] = set()

    class Patients(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            if node.name.value == "patient":
                aliases.add(node.alias.value if node.alias else "patient")

    visit(parse(query), Patients())
    return aliases
