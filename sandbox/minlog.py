"""Simulated Min Log (MinLog2): receives access records as FHIR R4 ``AuditEvent``s and shows them.

Routes (``docs/sources/minlog.md``):

- ``POST /fhir``: a ``batch`` Bundle of ``AuditEvent`` creates. Each event is checked minimally
  (``resourceType``, ``recorded``, an agent with ``requestor: true``, an entity with a patient CPR
  identifier) and stored; the answer is a ``batch-response`` with ``201 Created`` per new event,
  ``200 OK`` when an event with the same access-record tag is already stored, ``400 Bad Request`` for
  an invalid one (the others are still stored, as a FHIR batch does). A body that is not a batch
  Bundle is ``400``.
- ``GET /fhir/AuditEvent?patient=<cpr>`` (or ``entity-identifier=urn:oid:1.2.208.176.1.2|<cpr>``): a
  searchset of the events about that patient, newest ``recorded`` first, so a demo user can see what
  the national log received.
- ``GET /_sandbox/received``: how many times each access record (by its tag) was sent, duplicates
  included: ``{"<record id>": 1, …}``, so a test can tell that nothing was sent twice.

The events live in memory on the app (``app.state.events``, oldest first); the population is not
consulted, since the log records access attempts to any number.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Population

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
ACCESS_RECORD_SYSTEM = "http://patientoverblik.dk/fhir/sid/access-record"

_CPR = re.compile(r"[0-9]{10}")


class _Invalid(ValueError):
    """An entry that is not an acceptable ``AuditEvent`` (answered ``400 Bad Request`` in its slot)."""


def create_app(population: Population) -> Starlette:
    """The Min Log simulator; ``app.state.events`` holds the stored events, oldest first."""
    del population  # same signature as every source; the log accepts any CPR number
    events: list[dict[str, Any]] = []
    by_record: dict[str, dict[str, Any]] = {}
    received: Counter[str] = Counter()

    async def batch(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _outcome(400, "structure", "body is not JSON")
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle" or body.get("type") != "batch":
            return _outcome(400, "invalid", "body must be a batch Bundle")
        entries = body.get("entry", [])
        if not isinstance(entries, list):
            return _outcome(400, "invalid", "entry must be a list")
        received.update(key for entry in entries if (key := _entry_record_id(entry)) is not None)
        answers = [_store(entry, events, by_record) for entry in entries]
        return _fhir({"resourceType": "Bundle", "type": "batch-response", "entry": answers})

    async def search(request: Request) -> JSONResponse:
        cpr = request.query_params.get("patient", "")
        identifier = request.query_params.get("entity-identifier")
        if identifier is not None:
            system, _, cpr = identifier.rpartition("|")
            if system not in ("", CPR_SYSTEM):
                return _outcome(400, "invalid", "entity-identifier must be a CPR identifier")
        if not _CPR.fullmatch(cpr):
            return _outcome(400, "invalid", "patient must be a CPR number")
        matches = [(datetime.fromisoformat(e["recorded"]), n, e) for n, e in enumerate(events) if cpr in _patients(e)]
        found = [event for _, _, event in sorted(matches, key=lambda match: match[:2], reverse=True)]
        entries = [
            {"fullUrl": f"AuditEvent/{event['id']}", "resource": event, "search": {"mode": "match"}} for event in found
        ]
        return _fhir({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})

    async def times_received(request: Request) -> JSONResponse:
        return JSONResponse(dict(received))

    app = Starlette(
        routes=[
            Route("/fhir", batch, methods=["POST"]),
            Route("/fhir/AuditEvent", search, methods=["GET"]),
            Route("/_sandbox/received", times_received, methods=["GET"]),
        ]
    )
    app.state.events = events
    return app


def _store(entry: Any, events: list[dict[str, Any]], by_record: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Store one batch entry's event; its ``batch-response`` entry."""
    try:
        event = _audit_event(entry)
    except _Invalid as exc:
        issue = {"severity": "error", "code": "invalid", "diagnostics": str(exc)}
        return {
            "response": {"status": "400 Bad Request", "outcome": {"resourceType": "OperationOutcome", "issue": [issue]}}
        }
    key = _record_id(event)
    if key is not None and key in by_record:
        return {"response": {"status": "200 OK", "location": f"AuditEvent/{by_record[key]['id']}/_history/1"}}
    stored = {**event, "id": f"ae-{len(events) + 1}"}
    events.append(stored)
    if key is not None:
        by_record[key] = stored
    return {"response": {"status": "201 Created", "location": f"AuditEvent/{stored['id']}/_history/1"}}


def _audit_event(entry: Any) -> dict[str, Any]:
    """The entry's ``AuditEvent``, checked minimally, or raise :class:`_Invalid`."""
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or request.get("method") != "POST" or request.get("url") != "AuditEvent":
        raise _Invalid("entry must be a POST to AuditEvent")
    event = entry.get("resource")
    if not isinstance(event, dict) or event.get("resourceType") != "AuditEvent":
        raise _Invalid("resource must be an AuditEvent")
    recorded = event.get("recorded")
    try:
        moment = datetime.fromisoformat(recorded) if isinstance(recorded, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Invalid("recorded must be a dateTime with a time zone")
    agents = event.get("agent")
    if not isinstance(agents, list) or not any(isinstance(a, dict) and a.get("requestor") is True for a in agents):
        raise _Invalid("agent must list the requestor")
    if not _patients(event):
        raise _Invalid("entity must identify the patient by CPR number")
    return event


def _patients(event: dict[str, Any]) -> set[str]:
    """The CPR numbers of the patients an event is about."""
    found = set()
    for entity in event.get("entity", []) if isinstance(event.get("entity"), list) else []:
        what = entity.get("what") if isinstance(entity, dict) else None
        identifier = what.get("identifier") if isinstance(what, dict) else None
        if not isinstance(identifier, dict) or identifier.get("system") != CPR_SYSTEM:
            continue
        value = identifier.get("value")
        if isinstance(value, str) and _CPR.fullmatch(value):
            found.add(value)
    return found


def _entry_record_id(entry: Any) -> str | None:
    """The access-record id of a batch entry's event, valid or not."""
    event = entry.get("resource") if isinstance(entry, dict) else None
    return _record_id(event) if isinstance(event, dict) else None


def _record_id(event: dict[str, Any]) -> str | None:
    """The access-record id in ``meta.tag``: the sender's idempotency key."""
    meta = event.get("meta")
    tags = meta.get("tag") if isinstance(meta, dict) else None
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("system") == ACCESS_RECORD_SYSTEM and isinstance(tag.get("code"), str):
            return str(tag["code"])
    return None


def _fhir(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")


def _outcome(status: int, code: str, text: str) -> JSONResponse:
    issue = {"severity": "error", "code": code, "diagnostics": text}
    return _fhir({"resourceType": "OperationOutcome", "issue": [issue]}, status)
