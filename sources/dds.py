"""Appointments shared as MedCom APD-DK documents through DDS (Dokumentdelingsservicen), over IHE MHD.

One ITI-67 index search (``GET /fhir/DocumentReference``) for many patients, with the window
(``period``), the excluded organisations (``author.identifier:not``) and the wanted statuses pushed
down; then one ITI-68 fetch per document actually needed, at most :data:`FETCH_CONCURRENCY` at a time:

- a ``superseded`` entry replaced by another returned entry (``relatesTo`` ``replaces`` on the newer
  one) is never fetched; a ``superseded`` entry with no successor is a withdrawn (deprecated)
  appointment and becomes ``cancelled``, and is only looked at when the search includes cancelled
  ones. When the window was pushed down, a withdrawn candidate is first checked against the index
  without the window, since its successor may have moved outside it;
- an entry whose author is an excluded organisation, names a patient not asked for, or is not an
  APD document is never fetched, even when the index ignored the pushdown;
- an index entry that fails validation or whose subject is not one CPR number, and a document that
  cannot be fetched, is larger than :data:`~sources.apd.MAX_DOCUMENT_BYTES` (reading stops there: the
  rest is never fetched), is hostile or malformed, or names another patient than its index entry, is
  skipped and named in the answer's problems (never the whole answer); a fetch that failed is named
  by what happened (a timeout, the repository down), a document refused as an invalid response;
- the documents (and a withdrawn entry's second index search) are the request's second wave of
  calls: they get what the index left of the request's deadline (:mod:`sources.deadline`);
- the newest version wins per stable appointment ID;
- a document already parsed for an earlier request is taken from the shared
  :class:`~sources.document_cache.DocumentCache` by repository, unique ID (``masterIdentifier``) and
  path instead of being fetched again, but only for an entry this request's index search returned,
  and only when it names that entry's patient (ADR 0014). Its status is read as of now.

An index failure (its first page) raises the client's ``SourceError``; an error the index reports in
its answer, or a page budget that runs out, is a problem of the answer. Wire format:
``docs/sources/appointments.md``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, ValidationError

from sources.apd import MAX_DOCUMENT_BYTES, ApdHostileDocument, ApdParseError, newest_per_appointment, parse_apd
from sources.appointments import keep
from sources.base import SourceClient
from sources.clinical import (
    AppointmentRecord,
    AppointmentsAnswer,
    AppointmentStatus,
    ClinicalSearch,
    DateWindow,
    Endpoint,
    Problem,
)
from sources.datatypes import Coding, Identifier, Reference, patient_cpr, resolve
from sources.deadline import Wave, in_wave
from sources.document_cache import DocumentCache, DocumentCachePolicy
from sources.errors import SourceError, SourceResponseInvalid
from sources.fhir_search import changed_pairs, excluded_pairs, resolve_link, search_resources, window_pairs
from sources.identifiers import IdentifierKind, distinct_cprs
from sources.payloads import CPR_SYSTEM, FhirModel, ShapeError

APD_FORMAT = "urn:ad:dk:medcom:apd-v2.0.1:full"
APD_TYPE = "http://loinc.org|39289-4"
FETCH_CONCURRENCY = 8

_log = logging.getLogger(__name__)


class _Attachment(FhirModel):
    url: str = Field(min_length=1)
    content_type: str | None = None


class _Content(FhirModel):
    attachment: _Attachment
    format: Coding | None = None


class _RelatesTo(FhirModel):
    code: str
    target: Reference


class _DocumentReference(FhirModel):
    resource_type: Literal["DocumentReference"]
    id: str = Field(min_length=1)
    master_identifier: Identifier | None = None
    status: Literal["current", "superseded", "entered-in-error"]
    subject: Reference
    author: list[Reference] = Field(default_factory=list)
    relates_to: list[_RelatesTo] = Field(default_factory=list)
    content: list[_Content] = Field(min_length=1)
    contained: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def keys(self) -> set[str]:
        """What a ``relatesTo`` target may call this entry: its id, reference or master identifier."""
        keys = {self.id, f"DocumentReference/{self.id}"}
        if self.master_identifier is not None:
            keys.add(self.master_identifier.value)
        return keys


class DdsAppointmentSource:
    """The DDS document index and repository, read for APD-DK appointment documents."""

    def __init__(self, client: SourceClient, endpoint: Endpoint, cache: DocumentCache | None = None) -> None:
        self._client = client
        self.endpoint = endpoint
        self._cache = cache if cache is not None else DocumentCache(DocumentCachePolicy(max_entries=0))

    async def appointments_for(self, search: ClinicalSearch) -> AppointmentsAnswer:
        """Each asked CPR's appointments (``[]`` when none), start-ordered, and what the answer lacks."""
        wanted = distinct_cprs(search.cprs)
        result: dict[str, list[AppointmentRecord]] = {cpr: [] for cpr in wanted}
        if not wanted or search.window.empty:
            return AppointmentsAnswer(result)
        index = await self._index(wanted, search, search.window, search.changed_since)
        entries, subjects, problems = index.entries, index.subjects, index.problems
        replaced = _replaced(entries)
        live = [e for e in entries if not (e.keys & replaced) and _fetchable(e, subjects[e.id], wanted, search)]
        withdrawn = [e for e in live if e.status == "superseded"]
        if withdrawn and (search.window.start is not None or search.window.end is not None):
            # A newer version may lie outside the window; look for it only where the caller may see.
            with in_wave(Wave.SECOND):
                pieces = await asyncio.gather(*(self._index(wanted, search, p) for p in search.visible_periods))
            everything = _replaced([entry for piece in pieces for entry in piece.entries])
            problems += [problem for piece in pieces for problem in piece.problems]
            live = [e for e in live if not (e.keys & everything)]
            if search.periods_blocked:
                # Its newer version may be in a blocked period: neither "cancelled" nor the new time can be told.
                live = [e for e in live if e.status != "superseded"]
        withdrawn_ids = {e.id for e in live if e.status == "superseded"}
        semaphore = asyncio.Semaphore(FETCH_CONCURRENCY)
        now = datetime.now(UTC)
        with in_wave(Wave.SECOND):  # the documents need the index's answer (ADR 0024)
            fetched = await asyncio.gather(*(self._fetch(e, subjects[e.id], semaphore, now) for e in live))
        problems += [
            Problem(outcome, subjects[entry.id])
            for entry, outcome in zip(live, fetched, strict=True)
            if isinstance(outcome, SourceError)
        ]
        records = [
            dataclasses.replace(record, status=AppointmentStatus.CANCELLED) if entry.id in withdrawn_ids else record
            for entry, record in zip(live, fetched, strict=True)
            if not isinstance(record, SourceError)
        ]
        for record in newest_per_appointment(records):
            if keep(record, search):
                result[record.cpr].append(record)
        for items in result.values():
            items.sort(key=lambda r: (r.start, r.id))
        return AppointmentsAnswer(result, tuple(problems))

    async def _index(
        self, wanted: list[str], search: ClinicalSearch, window: DateWindow, changed_since: datetime | None = None
    ) -> _Index:
        """The index entries of one search (of what changed since ``changed_since``, when set), each validated on
        its own, and the problems of the answer."""
        pairs = [
            ("patient.identifier", f"{CPR_SYSTEM}|{','.join(wanted)}"),
            ("type", APD_TYPE),
            ("format", APD_FORMAT),
            ("status", "current,superseded" if search.include_cancelled else "current"),
            *window_pairs("period", window),
            *excluded_pairs("author.identifier:not", search.exclude_organisations),
            *changed_pairs(changed_since),
        ]
        found = await search_resources(
            self._client, "/fhir/DocumentReference", pairs, max_pages=self.endpoint.max_pages
        )
        problems = [Problem(error) for error in found.problems]
        problems += [Problem(self._client.invalid("a search entry was not a resource"))] * found.unreadable
        index = _Index(problems=problems)
        for resource in found.resources:
            if resource.get("resourceType") != "DocumentReference":
                continue
            try:
                entry = _DocumentReference.model_validate(resource)
                kind, target = resolve(entry.subject, entry.contained, found.included, found.base)
                cpr = patient_cpr(entry.subject, target) if kind in (None, "Patient") else None
                if cpr is None:
                    raise ShapeError("index entry without one CPR subject")
            except (ValidationError, ShapeError):
                problems.append(Problem(self._client.invalid("a document index entry was left out")))
                continue
            index.subjects[entry.id] = cpr
            index.entries.append(entry)
        return index

    async def _fetch(
        self, entry: _DocumentReference, subject: str, semaphore: asyncio.Semaphore, now: datetime
    ) -> AppointmentRecord | SourceError:
        """The entry's appointment as of ``now``, or why it is missing (logged without content).

        A fetch that failed keeps its kind (a timeout, a source down or its breaker open, an answer
        too large or badly encoded); a document the gateway refuses is an invalid response.
        """
        path = resolve_link(self._client, entry.content[0].attachment.url)
        if path is None:
            return self._reject("attachment outside the repository")
        key = (self.endpoint.name, entry.master_identifier.value, path) if entry.master_identifier else None
        document = self._cache.get(key) if key is not None else None
        size = 0
        if document is None:
            async with semaphore:
                try:
                    data = await self._client.get_bytes(
                        path, accept="application/xml, text/xml", max_bytes=MAX_DOCUMENT_BYTES
                    )
                except SourceError as failed:
                    _log.warning("%s: an appointment document was not fetched: %s", self.endpoint.name, failed.kind)
                    return failed
            try:
                document, size = parse_apd(data, source=self.endpoint.name, now=now), len(data)
            except ApdHostileDocument:
                return self._reject("hostile document")
            except ApdParseError:
                return self._reject("malformed document")
        if document.appointment.cpr != subject:
            return self._reject("document names another patient than its index entry")
        if key is not None and size:
            self._cache.put(key, document, size)
        return document.as_of(now)

    def _reject(self, reason: str) -> SourceResponseInvalid:
        _log.warning("%s: an appointment document was rejected: %s", self.endpoint.name, reason)
        return self._client.invalid("an appointment document was rejected")


@dataclass
class _Index:
    """One index search: the entries kept, each one's patient (by entry id), and the answer's problems."""

    entries: list[_DocumentReference] = field(default_factory=list)
    subjects: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _fetchable(entry: _DocumentReference, subject: str, wanted: list[str], search: ClinicalSearch) -> bool:
    if entry.status == "entered-in-error" or (entry.status == "superseded" and not search.include_cancelled):
        return False
    if subject not in wanted:
        return False
    authors = {sor for a in entry.author if a.identifier and (sor := a.identifier.normalised(IdentifierKind.SOR))}
    if authors & search.exclude_organisations:
        return False
    document_format = entry.content[0].format
    return document_format is None or document_format.code == APD_FORMAT


def _replaced(entries: list[_DocumentReference]) -> set[str]:
    """The keys of every entry another entry replaces."""
    replaced: set[str] = set()
    for entry in entries:
        for relation in entry.relates_to:
            if relation.code != "replaces":
                continue
            if relation.target.reference:
                replaced.add(relation.target.reference)
                replaced.add(relation.target.reference.rpartition("/")[2])
            if relation.target.identifier is not None:
                replaced.add(relation.target.identifier.value)
    return replaced
