"""The web page's operations (gateway/static/web/operations/*.graphql) against schema.graphql.

The page sends these files as they are, so a schema change that breaks the page fails here: each
file parses within the gateway's token limit, holds one operation named as the file, validates
against the committed SDL (graphql-core's rules plus the gateway's depth and alias limits), and is
sent by the page's scripts; every operation the scripts send has its file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, build_schema, specified_rules, validate

from gateway.limits import Limits, check_operations, operation_limits_rule, parse_document
from gateway.web import OPERATIONS_DIR, WEB_DIR

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = sorted(OPERATIONS_DIR.glob("*.graphql"))
# ctx.run("Name", …) and run("Name", …) in the page's scripts.
_SENT = re.compile(r"\brun\(\s*\"([A-Za-z]+)\"")


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


def sent_by_the_scripts() -> set[str]:
    return {name for script in WEB_DIR.rglob("*.js") for name in _SENT.findall(script.read_text(encoding="utf-8"))}


def test_the_page_has_operations() -> None:
    assert {path.stem for path in OPERATIONS} >= {"Overview", "Appointments", "AccessLog", "UpdateMasterCard"}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.stem)
def test_each_operation_validates_against_the_schema_within_the_gateways_limits(
    path: Path, schema: GraphQLSchema
) -> None:
    limits = Limits()
    document = parse_document(path.read_text(encoding="utf-8"), limits.max_tokens)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]

    assert [o.name.value if o.name else None for o in operations] == [path.stem]
    check_operations(document, path.stem, limits.max_operations)
    rules = [*specified_rules, operation_limits_rule(limits.max_depth, limits.max_aliases)]
    assert [error.message for error in validate(schema, document, rules)] == []


def test_the_scripts_send_exactly_the_operation_files() -> None:
    assert sent_by_the_scripts() == {path.stem for path in OPERATIONS}


def test_a_schema_change_that_breaks_an_operation_fails_here(schema: GraphQLSchema) -> None:
    """The check bites: with `Patient.masterCard` renamed, the overview no longer validates."""
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    renamed = sdl.replace("\n  masterCard: MasterCard @category", "\n  sharedCard: MasterCard @category")
    assert renamed != sdl
    broken = build_schema(renamed)
    document = parse_document((OPERATIONS_DIR / "Overview.graphql").read_text(encoding="utf-8"), Limits().max_tokens)

    assert validate(schema, document) == []
    assert any("masterCard" in error.message for error in validate(broken, document))
