"""What CPR says about protection is read failing closed, and a partial CPR answer is no answer (issue 10).

The families: a person is protected unless every security label is certainly harmless (a confidentiality
code U, L, M or N in the confidentiality system, by URL or OID), whatever else ``meta`` holds (``R``
without its system, lower case, the OID system, another system, a string, a list of strings); an
answer CPR marks as partial (an error ``OperationOutcome`` of any severity but warning and
information, an entry with a search mode FHIR does not define) fails every asked person with a coded
error, so no one reads as unknown or unprotected on its word; a ``null`` list is an empty one.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from sandbox.cpr import patient_resource
from sandbox.population import Population
from sources.base import SourceClient, SourceConfig
from sources.cpr import CONFIDENTIALITY, CONFIDENTIALITY_OID, CprSource
from sources.errors import SourceError, SourceIncomplete, SourceResponseInvalid

HANS = "1403723705"
NANCY = "2512489996"

harmless = st.fixed_dictionaries(
    {"system": st.sampled_from([CONFIDENTIALITY, CONFIDENTIALITY_OID]), "code": st.sampled_from(["U", "L", "M", "N"])}
)
SYSTEMS = [CONFIDENTIALITY, CONFIDENTIALITY_OID, "urn:oid:1.2.3", CONFIDENTIALITY.upper()]


def certainly_harmless(label: dict[str, str]) -> bool:
    return label.get("system") in (CONFIDENTIALITY, CONFIDENTIALITY_OID) and label["code"] in ("U", "L", "M", "N")


doubtful = st.one_of(
    st.fixed_dictionaries(
        {"code": st.sampled_from(["R", "r", "V", "v", " R", "N", "restricted", "SUBSETTED", ""])},
        optional={"system": st.sampled_from(SYSTEMS)},
    ).filter(lambda label: not certainly_harmless(label)),
    st.sampled_from(["R", 1, None, ["R"]]),
)


async def persons(population: Population, *patients: dict[str, Any], extra: list[dict[str, Any]] | None = None) -> Any:
    entries = [{"resource": p, "search": {"mode": "match"}} for p in patients] + (extra or [])
    body = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport, base_url="http://cpr.mock") as http:
        return await CprSource(SourceClient(SourceConfig("cpr", "http://cpr.mock"), http)).read_persons([HANS, NANCY])


def hans(population: Population, meta: Any = None, **changes: Any) -> dict[str, Any]:
    resource = copy.deepcopy(patient_resource(population.persons[HANS]))
    if meta is not None:
        resource["meta"] = meta
    return resource | changes


@given(st.lists(harmless, max_size=3), doubtful, st.lists(harmless, max_size=2))
async def test_a_security_label_that_may_mean_restricted_makes_the_person_protected(
    population: Population, before: list[Any], label: Any, after: list[Any]
) -> None:
    found = await persons(population, hans(population, {"security": [*before, label, *after]}))

    assert found[HANS].protected is True


@given(st.lists(harmless, max_size=4))
async def test_only_certainly_harmless_labels_leave_the_person_unprotected(
    population: Population, labels: list[Any]
) -> None:
    found = await persons(population, hans(population, {"security": labels}))

    assert found[HANS].protected is False


@given(st.sampled_from(["R", 1, ["R"], {"security": "R"}, {"security": {"code": "R"}}]))
async def test_meta_that_is_not_the_shape_fhir_gives_it_means_protected(population: Population, meta: Any) -> None:
    found = await persons(population, hans(population, meta))

    assert found[HANS].protected is True


@given(st.sampled_from(["error", "fatal", "ERROR", "critical", "unknown"]), st.booleans())
async def test_an_answer_cpr_marks_as_partial_fails_every_asked_person(
    population: Population, severity: str, with_hans: bool
) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": "timeout"}]}
    patients = [hans(population)] if with_hans else []

    found = await persons(population, *patients, extra=[{"resource": outcome, "search": {"mode": "outcome"}}])

    assert {cpr: type(value) for cpr, value in found.items()} == {HANS: SourceIncomplete, NANCY: SourceIncomplete}


async def test_an_entry_with_a_search_mode_fhir_does_not_define_fails_every_asked_person(population: Population):
    found = await persons(population, extra=[{"resource": hans(population), "search": {"mode": "Match"}}])

    assert all(isinstance(value, SourceResponseInvalid) for value in found.values())


async def test_a_person_cpr_leaves_out_of_a_complete_answer_is_unknown(population: Population) -> None:
    found = await persons(population, hans(population))

    assert found[NANCY] is None and not isinstance(found[HANS], SourceError)


async def test_null_lists_are_empty_ones(population: Population) -> None:
    name = [{"use": "official", "family": "Jensen", "given": None}]
    address = [{"use": "home", "line": None, "postalCode": "5000", "city": "Odense C"}]

    found = await persons(population, hans(population, name=name, address=address))

    record = found[HANS]
    assert not isinstance(record, SourceError) and record is not None
    assert (record.given_name, record.family_name) == ("", "Jensen")
    assert record.address is not None and record.address.postal_code == "5000"
