"""Simulated Fælles Stamkort (Stamkortregister): FHIR R4 ``Patient`` contact data + ``RelatedPerson``.

Routes (``docs/sources/stamkort.md``):

- ``GET /fhir/Patient?identifier=urn:oid:1.2.208.176.1.2|<cpr>,<cpr>&_revinclude=RelatedPerson:patient``
  returns a searchset ``Bundle``: one ``Patient`` per known CPR, then its ``RelatedPerson``s.
- ``PUT /fhir/Patient/<cpr>`` with ``If-Match: W/"<version>"`` replaces the master card (relatives as
  ``contained`` ``RelatedPerson``s) and answers the stored ``Patient`` with ``ETag: W/"<new>"``.
  404 unknown CPR, 428 no ``If-Match``, 412 stale version, 400 not JSON, 422 invalid card.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Address, MasterCard, Population, Relative

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
DENTIST_URL = "http://patientoverblik.dk/fhir/StructureDefinition/dentist"
MUNICIPALITY_URL = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"

_CPR = re.compile(r"[0-9]{10}")
_IF_MATCH = re.compile(r'(?:W/)?"([0-9]+)"')


class _Invalid(ValueError):
    """The request body is not a valid master card (answered 422)."""


def create_app(population: Population) -> Starlette:
    """The Stamkort simulator over ``population.master_cards``."""

    async def search(request: Request) -> JSONResponse:
        cprs = _cpr_list(request.query_params.get("identifier", ""))
        if cprs is None:
            return _outcome(400, "invalid", "identifier must list CPR numbers")
        include = request.query_params.get("_revinclude") == "RelatedPerson:patient"
        entries: list[dict[str, Any]] = []
        for cpr in dict.fromkeys(cprs):
            card = population.master_cards.get(cpr)
            if card is None:
                continue
            entries.append({"resource": _patient(cpr, card), "search": {"mode": "match"}})
            if include:
                entries.extend(
                    {"resource": _related_person(cpr, index, relative, contained=False), "search": {"mode": "include"}}
                    for index, relative in enumerate(card.relatives)
                )
        total = sum(1 for e in entries if e["search"]["mode"] == "match")
        return _fhir({"resourceType": "Bundle", "type": "searchset", "total": total, "entry": entries})

    async def update(request: Request) -> JSONResponse:
        cpr = request.path_params["cpr"]
        current = population.master_cards.get(cpr)
        if current is None:
            return _outcome(404, "not-found", "no master card")
        if_match = request.headers.get("if-match")
        if if_match is None:
            return _outcome(428, "required", "If-Match is required")
        match = _IF_MATCH.fullmatch(if_match.strip())
        if match is None or int(match.group(1)) != current.version:
            return _outcome(412, "conflict", "version does not match")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _outcome(400, "structure", "body is not JSON")
        try:
            card = _card_from_patient(body, cpr, version=current.version + 1)
        except _Invalid as exc:
            return _outcome(422, "invalid", str(exc))
        population.master_cards[cpr] = card
        return _fhir(_patient(cpr, card, contain=True), headers={"ETag": f'W/"{card.version}"'})

    return Starlette(
        routes=[
            Route("/fhir/Patient", search, methods=["GET"]),
            Route("/fhir/Patient/{cpr}", update, methods=["PUT"]),
        ]
    )


def _fhir(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A FHIR JSON answer."""
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/fhir+json")


def _outcome(status: int, code: str, text: str) -> JSONResponse:
    """A FHIR ``OperationOutcome`` error answer."""
    issue = {"severity": "error", "code": code, "diagnostics": text}
    return _fhir({"resourceType": "OperationOutcome", "issue": [issue]}, status)


def _cpr_list(value: str) -> list[str] | None:
    """``system|a,b`` (or ``system|a,system|b``) → CPR numbers; ``None`` if any is not a CPR."""
    cprs = [item.rpartition("|")[2] if item.startswith(CPR_SYSTEM) else item for item in value.split(",")]
    if not value or not all(_CPR.fullmatch(cpr) for cpr in cprs):
        return None
    return cprs


def _patient(cpr: str, card: MasterCard, *, contain: bool = False) -> dict[str, Any]:
    """``card`` as a FHIR ``Patient`` (relatives as ``contained`` when ``contain``)."""
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": cpr,
        "meta": {"versionId": str(card.version)},
        "identifier": [{"system": CPR_SYSTEM, "value": cpr}],
    }
    if card.dentist is not None:
        patient["extension"] = [{"url": DENTIST_URL, "valueString": card.dentist}]
    if card.phone is not None:
        patient["telecom"] = [{"system": "phone", "value": card.phone, "use": "mobile"}]
    if card.temporary_address is not None:
        patient["address"] = [_address(card.temporary_address, card.temporary_address_end)]
    if card.preferred_language is not None:
        coding = {"system": LANGUAGE_SYSTEM, "code": card.preferred_language}
        patient["communication"] = [{"language": {"coding": [coding]}, "preferred": True}]
    if contain:
        patient["contained"] = [_related_person(cpr, i, r, contained=True) for i, r in enumerate(card.relatives)]
    return patient


def _related_person(cpr: str, index: int, relative: Relative, *, contained: bool) -> dict[str, Any]:
    """One relative as a FHIR ``RelatedPerson`` of the patient ``cpr``."""
    name: dict[str, Any] = {"given": [relative.first_name]}
    if relative.surname is not None:
        name["family"] = relative.surname
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": f"rel-{index}" if contained else f"{cpr}-rel-{index}",
        "patient": {"reference": "#"} if contained else {"identifier": {"system": CPR_SYSTEM, "value": cpr}},
        "name": [name],
    }
    if relative.phone is not None:
        resource["telecom"] = [{"system": "phone", "value": relative.phone}]
    if relative.relation is not None:
        resource["relationship"] = [{"text": relative.relation}]
    return resource


def _address(address: Address, end: date | None) -> dict[str, Any]:
    municipality = {"coding": [{"system": MUNICIPALITY_SYSTEM, "code": address.municipality_code}]}
    resource: dict[str, Any] = {
        "use": "temp",
        "line": [address.line],
        "postalCode": address.postal_code,
        "city": address.city,
    }
    if address.municipality_code:
        resource["extension"] = [{"url": MUNICIPALITY_URL, "valueCodeableConcept": municipality}]
    if end is not None:
        resource["period"] = {"end": end.isoformat()}
    return resource


def _card_from_patient(body: Any, cpr: str, *, version: int) -> MasterCard:
    """Parse a PUT body into a :class:`MasterCard`, or raise :class:`_Invalid`."""
    if not isinstance(body, dict) or body.get("resourceType") != "Patient":
        raise _Invalid("body must be a Patient")
    identifiers = [i.get("value") for i in _dicts(body, "identifier") if i.get("system") == CPR_SYSTEM]
    if any(value != cpr for value in identifiers):
        raise _Invalid("identifier does not match the path")
    phones = [_text(t, "value") for t in _dicts(body, "telecom") if t.get("system") == "phone"]
    temporary = [a for a in _dicts(body, "address") if a.get("use") == "temp"]
    if len(temporary) > 1:
        raise _Invalid("at most one temporary address")
    address, end = _parse_address(temporary[0]) if temporary else (None, None)
    dentists = [_text(e, "valueString") for e in _dicts(body, "extension") if e.get("url") == DENTIST_URL]
    relatives = [_parse_relative(r) for r in _dicts(body, "contained") if r.get("resourceType") == "RelatedPerson"]
    return MasterCard(
        version=version,
        phone=phones[0] if phones else None,
        temporary_address=address,
        temporary_address_end=end,
        dentist=dentists[0] if dentists else None,
        preferred_language=_language(_dicts(body, "communication")),
        relatives=relatives,
    )


def _parse_address(value: dict[str, Any]) -> tuple[Address, date | None]:
    lines = value.get("line")
    if not isinstance(lines, list) or not lines or not all(isinstance(line, str) and line for line in lines):
        raise _Invalid("temporary address needs a line")
    municipality = ""
    for extension in _dicts(value, "extension"):
        if extension.get("url") == MUNICIPALITY_URL:
            codings = _dicts(extension.get("valueCodeableConcept") or {}, "coding")
            municipality = _text(codings[0], "code") if codings else ""
    period = value.get("period")
    end_text = period.get("end") if isinstance(period, dict) else None
    try:
        end = date.fromisoformat(end_text[:10]) if isinstance(end_text, str) else None
    except ValueError as exc:
        raise _Invalid("period end is not a date") from exc
    address = Address(", ".join(lines), _text(value, "postalCode"), _text(value, "city"), municipality)
    return address, end


def _parse_relative(value: dict[str, Any]) -> Relative:
    names = _dicts(value, "name")
    given = names[0].get("given") if names else None
    if not isinstance(given, list) or not given or not isinstance(given[0], str) or not given[0].strip():
        raise _Invalid("a relative needs a first name")
    family = names[0].get("family")
    phones = [_text(t, "value") for t in _dicts(value, "telecom") if t.get("system") == "phone"]
    relations = [r.get("text") for r in _dicts(value, "relationship") if isinstance(r.get("text"), str)]
    return Relative(
        given[0],
        family if isinstance(family, str) and family else None,
        phones[0] if phones else None,
        relations[0] if relations else None,
    )


def _language(communications: list[dict[str, Any]]) -> str | None:
    preferred = [c for c in communications if c.get("preferred") is True] or communications
    for communication in preferred:
        for coding in _dicts(communication.get("language") or {}, "coding"):
            return _text(coding, "code")
    return None


def _dicts(value: Any, key: str) -> list[dict[str, Any]]:
    items = value.get(key, []) if isinstance(value, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise _Invalid(f"{key} must be a list of objects")
    return items


def _text(value: dict[str, Any], key: str) -> str:
    text = value.get(key)
    if not isinstance(text, str) or not text.strip():
        raise _Invalid(f"{key} must be a non-empty string")
    return text
