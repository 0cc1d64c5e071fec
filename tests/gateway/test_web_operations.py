"""The web page's operations (gateway/static/web/operations/*.graphql) against schema.graphql.

The page sends these files as they are, so a schema change that breaks the page fails here: each
file parses within the gateway's token limit, holds the operation named as the file (and possibly
others of the same subject, sent with operationName), validates against the committed SDL
(graphql-core's rules plus the gateway's depth and alias limits), and every operation is sent by the
page's scripts; every operation the scripts send is in a file. The folder is the page's
trusted-documents manifest, so it is also checked against the page's client's allow-list.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, specified_rules, validate

from auth.fields import ClientRegistration
from gateway.limits import Limits, check_operations, operation_limits_rule, parse_document
from gateway.manifests import read_manifest
from gateway.schema import sdl_schema
from gateway.trusted import check_manifest
from gateway.web import OPERATIONS_DIR, WEB_DIR, WEB_PAGE_FIELDS

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = sorted(OPERATIONS_DIR.glob("*.graphql"))
# ctx.run("Name", …) and run("Name", …) in the page's scripts.
_SENT = re.compile(r"\brun\(\s*\"([A-Za-z]+)\"")


def operation_names(path: Path) -> list[str]:
    document = parse_document(path.read_text(encoding="utf-8"), Limits().max_tokens)
    return [d.name.value if d.name else "" for d in document.definitions if isinstance(d, OperationDefinitionNode)]


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return sdl_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


def sent_by_the_scripts() -> set[str]:
    return {name for script in WEB_DIR.rglob("*.js") for name in _SENT.findall(script.read_text(encoding="utf-8"))}


def test_the_page_has_operations() -> None:
    names = {name for path in OPERATIONS for name in operation_names(path)}
    assert names >= {"Overview", "Appointments", "AccessLog", "MasterCard", "UpdateMasterCard"}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.stem)
def test_each_operation_validates_against_the_schema_within_the_gateways_limits(
    path: Path, schema: GraphQLSchema
) -> None:
    limits = Limits()
    document = parse_document(path.read_text(encoding="utf-8"), limits.max_tokens)
    names = operation_names(path)

    assert path.stem in names
    assert all(names), "every operation is named"
    for name in names:
        check_operations(document, name, limits.max_operations)
    rules = [*specified_rules, operation_limits_rule(limits.max_depth, limits.max_aliases)]
    assert [error.message for error in validate(schema, document, rules)] == []


def test_the_scripts_send_exactly_the_operations_of_the_files() -> None:
    names = [name for path in OPERATIONS for name in operation_names(path)]
    assert len(names) == len(set(names)), "an operation name is in one file only"
    assert sent_by_the_scripts() == set(names)


def test_the_folder_is_a_manifest_the_pages_allow_list_allows(schema: GraphQLSchema) -> None:
    """What the gateway checks at start when it registers the page's client (ADR 0015), against the SDL."""
    page = ClientRegistration("patientoverblik-web", "Patientoverblik, websiden", frozenset(WEB_PAGE_FIELDS))
    documents = check_manifest(
        page.client_id, read_manifest(page.client_id, OPERATIONS_DIR), schema, page.allows, Limits()
    )

    assert {d.id for d in documents.documents} == {path.stem for path in OPERATIONS}
    assert {name for d in documents.documents for name in d.operation_names} == sent_by_the_scripts()


def test_a_schema_change_that_breaks_an_operation_fails_here(schema: GraphQLSchema) -> None:
    """The check bites: with `Patient.masterCard` renamed, the overview no longer validates."""
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    renamed = sdl.replace("\n  masterCard: MasterCard @category", "\n  sharedCard: MasterCard @category")
    assert renamed != sdl
    broken = sdl_schema(renamed)
    document = parse_document((OPERATIONS_DIR / "Overview.graphql").read_text(encoding="utf-8"), Limits().max_tokens)

    assert validate(schema, document) == []
    assert any("masterCard" in error.message for error in validate(broken, document))
