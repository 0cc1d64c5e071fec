"""No upstream value becomes an enum member by a conversion that can raise (issue 10, round two).

``CprStatus(record.status)`` raised ``ValueError`` for a status code CPR sent that the gateway did not
know, and the whole ``person`` field became ``INTERNAL_ERROR``. Every conversion of a value to a member
goes through :func:`sources.payloads.member`, which answers ``None`` for a value the enum lacks, so the
caller decides (a status shown as ``UNKNOWN``, an item left out and reported). This test walks
``sources/`` and ``resolvers/`` and fails for any ``SomeEnum(value)`` or ``SomeEnum[value]`` with a
value that is not a literal.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from resolvers.person import CprStatus, Person
from sources.models import AddressRecord, PersonRecord, Sex

ROOT = Path(__file__).resolve().parent.parent
WALKED = ("sources", "resolvers")
DECLARING = ("sources", "resolvers", "auth", "gateway")
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "Flag", "IntFlag"}


def _modules(packages: tuple[str, ...]) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def _enum_names() -> set[str]:
    names: set[str] = set()
    for path in _modules(DECLARING):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and b.id in ENUM_BASES)
                or (isinstance(b, ast.Attribute) and b.attr in ENUM_BASES)
                for b in node.bases
            ):
                names.add(node.name)
    return names


def _conversions() -> list[str]:
    enums = _enum_names()
    found = []
    for path in _modules(WALKED):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in enums:
                values = [*node.args, *(k.value for k in node.keywords)]
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in enums:
                values = [node.slice]
            else:
                continue
            if any(not isinstance(value, ast.Constant) for value in values):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_walk_knows_the_enums_it_looks_for() -> None:
    assert {"CprStatus", "GoalKind", "OrganDonorDecision", "OrganisationKind", "AppointmentStatus"} <= _enum_names()


def test_no_upstream_value_is_converted_to_an_enum_member_by_a_call_that_can_raise() -> None:
    assert _conversions() == []


@pytest.mark.parametrize("code", ["99", "02", "00", "04"])
def test_a_cpr_status_code_the_gateway_does_not_know_is_shown_as_unknown_without_an_address(code: str) -> None:
    record = PersonRecord(
        cpr="0308580266",
        given_name="Vera Test",
        family_name="Ukendtstatus",
        sex=Sex.FEMALE,
        birth_date=None,
        status=code,
        status_date=None,
        address=AddressRecord("Testvej 1", "9000", "Aalborg", "0851"),
        protected=False,
    )

    person = Person.from_record(record)

    assert (person.status, person.status_code, person.address, person.postal_address) == (
        CprStatus.UNKNOWN,
        code,
        None,
        None,
    )
