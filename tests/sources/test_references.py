"""A reference names a patient only when everything it says agrees, and only a same-server one resolves.

The families: a reference to a ``Patient`` whose identifier names one CPR number while the resource it
points at (contained, included, by full URL) carries another is no patient at all (``None``: the
caller reports the item, never files it under either person), whatever the spelling of the numbers;
an absolute reference on another server never resolves to this bundle's resource of the same type and
id, while one on the searched server, or one matching an included entry's full URL, does.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sources.datatypes import Reference, patient_cpr, resolve

CPR = "urn:oid:1.2.208.176.1.2"
BASE = "http://region.mock/fhir"
cprs = st.sampled_from(["1209184018", "1908830938", "1403723705", "2512489996"])
spellings = st.sampled_from(["{}", " {} ", "{:.6}-{}"])


def spelt(cpr: str, spelling: str) -> str:
    return spelling.format(cpr[:6], cpr[6:]) if "-" in spelling else spelling.format(cpr)


def patient(cpr: str, resource_id: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": resource_id, "identifier": [{"system": CPR, "value": cpr}]}


@given(cprs, cprs, spellings, st.sampled_from(["contained", "included", "full-url"]))
def test_a_reference_whose_identifier_and_target_disagree_names_no_patient(
    target_cpr: str, said_cpr: str, spelling: str, where: str
) -> None:
    text = {"contained": "#p1", "included": "Patient/p1", "full-url": "https://other.example/fhir/Patient/p1"}[where]
    reference = Reference.model_validate(
        {"reference": text, "type": "Patient", "identifier": {"system": CPR, "value": spelt(said_cpr, spelling)}}
    )
    contained = [patient(target_cpr)] if where == "contained" else []
    included = {"Patient/p1": patient(target_cpr), "https://other.example/fhir/Patient/p1": patient(target_cpr)}

    kind, target = resolve(reference, contained, included, BASE)

    assert kind == "Patient" and target is not None
    assert patient_cpr(reference, target) == (target_cpr if target_cpr == said_cpr else None)


@given(cprs, st.sampled_from(["https://other.example/fhir", "http://region.mock/other", "http://REGION.mock:81/fhir"]))
def test_an_absolute_reference_on_another_server_never_resolves_by_type_and_id(cpr: str, server: str) -> None:
    reference = Reference.model_validate({"reference": f"{server}/Patient/p1"})

    kind, target = resolve(reference, [], {"Patient/p1": patient(cpr), f"{BASE}/Patient/p1": patient(cpr)}, BASE)

    assert (kind, target) == ("Patient", None)
    assert patient_cpr(reference, target) is None


@given(cprs, st.sampled_from(["", "/_history/4"]))
def test_an_absolute_reference_on_the_searched_server_or_an_included_full_url_resolves(cpr: str, history: str) -> None:
    same_server = Reference.model_validate({"reference": f"{BASE}/Patient/p1{history}"})
    by_full_url = Reference.model_validate({"reference": f"https://x.example/fhir/Patient/p2{history}"})
    included = {"Patient/p1": patient(cpr), "https://x.example/fhir/Patient/p2": patient(cpr, "p2")}

    assert patient_cpr(same_server, resolve(same_server, [], included, BASE)[1]) == cpr
    assert patient_cpr(by_full_url, resolve(by_full_url, [], included, BASE)[1]) == cpr
