"""No breaking schema change goes unannounced: each one is named in CHANGELOG.md before it ships.

``docs/schema-baseline.graphql`` is the schema clients were last given (at a release it is replaced
by ``schema.graphql``, and the CHANGELOG's "Unreleased" heading gets the version). graphql-core's
``find_breaking_changes`` compares it with the schema the code generates; every breaking change must
be quoted, in graphql-core's own words, in a ``### Breaking`` section of the CHANGELOG's
``## Unreleased`` part, e.g.::

    ### Breaking (issue 12)
    - `Field Patient.plans was removed.` Read `Patient.carePlans` instead.

Committed files only, so it runs the same in a clean clone (CI) as in a working tree.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import BreakingChange, find_breaking_changes

from gateway.schema import schema_sdl, sdl_schema

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "docs" / "schema-baseline.graphql"
CHANGELOG = ROOT / "CHANGELOG.md"


def breaking_changes(baseline: str, current: str) -> list[BreakingChange]:
    return find_breaking_changes(sdl_schema(baseline), sdl_schema(current))


def announced(changelog: str) -> str:
    """The text of the ``### Breaking…`` sections under ``## Unreleased`` (empty without them)."""
    unreleased = re.search(r"^## Unreleased\s*$(.*?)(?=^## |\Z)", changelog, re.MULTILINE | re.DOTALL)
    if unreleased is None:
        return ""
    sections = re.findall(r"^### Breaking[^\n]*\n(.*?)(?=^#{2,3} |\Z)", unreleased.group(1), re.MULTILINE | re.DOTALL)
    return "\n".join(sections)


def unannounced(baseline: str, current: str, changelog: str) -> list[str]:
    """The breaking changes the changelog does not quote, as the lines to add."""
    text = announced(changelog)
    return [f"- `{c.description}`" for c in breaking_changes(baseline, current) if f"`{c.description}`" not in text]


def test_every_breaking_change_since_the_baseline_is_named_in_the_changelog() -> None:
    missing = unannounced(BASELINE.read_text(encoding="utf-8"), schema_sdl(), CHANGELOG.read_text(encoding="utf-8"))

    assert missing == [], (
        "Breaking schema changes since docs/schema-baseline.graphql: say so in CHANGELOG.md under "
        "'## Unreleased' / '### Breaking', one line each, and how clients adapt:\n" + "\n".join(missing)
    )


OLD = "type Query { patient(cpr: String!): Patient }\ntype Patient { plans: String, name: String }"
NEW = "type Query { patient(cpr: String!): Patient }\ntype Patient { name: String, carePlans: String }"


def test_an_unannounced_breaking_change_fails_and_names_the_line_to_add() -> None:
    changelog = "# Changelog\n\n## Unreleased\n\n### Added\n- `Patient.carePlans`.\n"

    assert unannounced(OLD, NEW, changelog) == ["- `Field Patient.plans was removed.`"]
    assert unannounced(OLD, OLD, changelog) == []


def test_a_breaking_change_named_under_unreleased_breaking_passes() -> None:
    changelog = (
        "# Changelog\n\n## Unreleased\n\n### Breaking (issue 12)\n- `Field Patient.plans was removed.` Read "
        "`Patient.carePlans`.\n\n### Added\n- more\n\n## 0.1.0\n"
    )

    assert unannounced(OLD, NEW, changelog) == []


def test_a_breaking_change_named_only_in_a_released_section_or_elsewhere_does_not_count() -> None:
    released = "# Changelog\n\n## Unreleased\n\n### Added\n- x\n\n## 0.1.0\n\n"
    released += "### Breaking\n- `Field Patient.plans was removed.`\n"
    elsewhere = "# Changelog\n\n## Unreleased\n\n### Changed\n- `Field Patient.plans was removed.`\n"

    assert unannounced(OLD, NEW, released) == ["- `Field Patient.plans was removed.`"]
    assert unannounced(OLD, NEW, elsewhere) == ["- `Field Patient.plans was removed.`"]
