"""FHIR R4 search plumbing shared by the adapters that page through search results.

:func:`search_resources` reads a search page after page, following ``link[relation=next]`` while the
link stays on the source's origin and under its FHIR base (``/fhir``): an absolute link, a path, a
link relative to the FHIR base (``Appointment?page=2``) or HAPI's ``[base]?_getpages=…`` all qualify;
another host, another base path or a dot segment in any spelling never does (:mod:`sources.links`),
so an upstream can never make the gateway send its credentials elsewhere. It answers with what it
read and what the answer lacks:

- ``match`` entries (and entries without a search mode) are the results; ``include`` entries are
  kept apart, by ``Type/id``, for resolving references (:attr:`SearchAnswer.included`);
- an ``OperationOutcome`` entry with an issue of any severity but ``warning`` and ``information``
  (``error``, ``fatal``, and anything outside FHIR's four codes, such as ``ERROR``) is the source saying
  its answer is partial (a partition timed out): a :class:`~sources.errors.SourceIncomplete` problem;
- an entry with a search mode FHIR does not define (``Match``, ``other``), or an ``outcome`` entry
  that is not an ``OperationOutcome``, is kept apart (:attr:`SearchAnswer.stray`) and is a
  :class:`~sources.errors.SourceResponseInvalid` problem: never silently dropped;
- a page budget (:data:`MAX_PAGES`) that runs out, or a later page that fails, keeps the results so
  far and adds a problem; only a first page that fails raises.

:func:`~sources.links.resolve_link` turns a link an upstream sent (a document attachment) into a path
under the source's base URL, or refuses it; :func:`window_pairs` writes a date window as FHIR search
prefixes, :func:`changed_pairs` FHIR's ``_lastUpdated`` for a search of what changed since an instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.clinical import DateWindow
from sources.errors import SourceError, SourceIncomplete
from sources.identifiers import SOR_SYSTEM, normalise_sor
from sources.links import resolve_link
from sources.payloads import FhirModel

__all__ = ["MAX_PAGES", "SearchAnswer", "excluded_pairs", "resolve_link", "search_resources", "window_pairs"]

MAX_PAGES = 50
"""Pages one search may take by default (a server capping ``_count`` at 10 still gives 500 items);
an endpoint may set its own (``Endpoint.max_pages``)."""

_HARMLESS_SEVERITIES = frozenset({"warning", "information"})
"""Issue severities that do not make an answer partial; any other (``error``, ``fatal``, ``ERROR``, a
severity outside FHIR's four) is read as an error: toward incomplete, never toward complete."""


class _Search(FhirModel):
    mode: str | None = None


class _Entry(FhirModel):
    full_url: str | None = None
    resource: Any = None
    search: _Search | None = None


class _Link(FhirModel):
    relation: str
    url: str = Field(min_length=1)


class _Bundle(FhirModel):
    resource_type: Literal["Bundle"]
    entry: list[_Entry] = Field(default_factory=list)
    link: list[_Link] = Field(default_factory=list)


class _Issue(FhirModel):
    severity: str


class _Outcome(FhirModel):
    resource_type: Literal["OperationOutcome"]
    issue: list[_Issue] = Field(default_factory=list)


@dataclass
class SearchAnswer:
    """What a paged search read: its results in order, the resources it included, and what it lacks."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    included: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resources of ``search.mode = include`` entries, by ``Type/id`` (and by their full URL)."""
    problems: list[SourceError] = field(default_factory=list)
    """Why the results may be incomplete (each names the source); empty when they are complete."""
    unreadable: int = 0
    """Entries that were not a resource at all (counted, never guessed at)."""
    base: str = ""
    """The searched FHIR base URL (``<base URL>/fhir``): absolute references under it are this server's."""
    stray: list[dict[str, Any]] = field(default_factory=list)
    """Resources of entries with a search mode the gateway does not know (also :attr:`stray_problem`)."""
    stray_problem: SourceError | None = None
    """The problem (one, among :attr:`problems`) that says the answer holds :attr:`stray` entries; an adapter
    that can use them (the consent adapter counts them as consents) may set it aside."""


def excluded_pairs(name: str, organisations: Iterable[str]) -> list[tuple[str, str]]:
    """Organisations a search leaves out, as ``<name>`` (``performer-organization:not``, ``custodian:not``,
    ``author.identifier:not``) with ``urn:oid:1.2.208.176.1.1|<sor>``: each SOR code in its normal form
    (:func:`~sources.identifiers.normalise_sor`), once, in order. The answer is filtered again on the way
    out, so a code that is not one is not sent (the upstream would refuse the search)."""
    codes = sorted({sor for sor in (normalise_sor(o) for o in organisations) if sor is not None})
    return [(name, f"{SOR_SYSTEM}|{sor}") for sor in codes]


def window_pairs(name: str, window: DateWindow) -> list[tuple[str, str]]:
    """A half-open date window as FHIR search prefixes: ``ge<start>`` and ``lt<end>`` (only the set bounds)."""
    pairs = []
    if window.start is not None:
        pairs.append((name, f"ge{window.start.isoformat()}"))
    if window.end is not None:
        pairs.append((name, f"lt{window.end.isoformat()}"))
    return pairs


def changed_pairs(since: datetime | None) -> list[tuple[str, str]]:
    """``_lastUpdated=ge<instant>`` (FHIR R4 §3.1.1.5.7, every resource type): what changed at or after ``since``,
    in UTC to the millisecond, rounded down so nothing at ``since`` is missed; nothing without ``since``."""
    if since is None:
        return []
    moment = since.astimezone(UTC).replace(microsecond=since.microsecond // 1000 * 1000)
    return [("_lastUpdated", "ge" + moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))]


async def search_resources(
    client: SourceClient, path: str, pairs: Sequence[tuple[str, str]], *, max_pages: int = MAX_PAGES
) -> SearchAnswer:
    """Every result of a FHIR search on ``path`` (``/fhir/<Type>``), following ``next`` links.

    A first page that is not a searchset Bundle raises :class:`~sources.errors.SourceResponseInvalid`
    (and a transport failure its ``SourceError``); everything after that is a problem of the answer.
    """
    fhir_base = path.rsplit("/", 1)[0]
    target = f"{path}?{urlencode(list(pairs))}"
    answer = SearchAnswer(base=client.config.base_url.rstrip("/") + fhir_base)
    for page in range(max_pages):
        try:
            payload = await client.get_json(target)
            try:
                bundle = _Bundle.model_validate(payload)
            except ValidationError as exc:
                raise client.invalid("search bundle failed validation") from exc
        except SourceError as exc:
            if page == 0:
                raise
            answer.problems.append(exc)
            return answer
        _read_page(client, bundle, answer)
        following = next((link.url for link in bundle.link if link.relation == "next"), None)
        if following is None:
            return answer
        resolved = resolve_link(client, following, current=target, under=fhir_base)
        if resolved is None:
            answer.problems.append(client.invalid("next link leaves the source"))
            return answer
        target = resolved
    answer.problems.append(SourceIncomplete(client.name, "more pages than the gateway follows"))
    return answer


def _read_page(client: SourceClient, bundle: _Bundle, answer: SearchAnswer) -> None:
    for entry in bundle.entry:
        resource = entry.resource
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            answer.unreadable += 1
            continue
        mode = entry.search.mode if entry.search is not None else None
        if resource["resourceType"] == "OperationOutcome" and mode in (None, "match", "outcome"):
            if _failed(resource):
                answer.problems.append(SourceIncomplete(client.name, "the source reported an error in its answer"))
        elif mode == "include":
            key = f"{resource['resourceType']}/{resource.get('id')}"
            answer.included[key] = resource
            if entry.full_url:
                answer.included[entry.full_url] = resource
        elif mode in (None, "match"):
            answer.resources.append(resource)
        else:
            answer.stray.append(resource)
            if answer.stray_problem is None:
                answer.stray_problem = client.invalid("a search entry has a search mode the gateway does not know")
                answer.problems.append(answer.stray_problem)


def _failed(resource: dict[str, Any]) -> bool:
    """Whether an ``OperationOutcome`` reports an error (one that cannot be read, or a severity that is not
    ``warning`` or ``information``, counts as one)."""
    try:
        outcome = _Outcome.model_validate(resource)
    except ValidationError:
        return True
    return any(issue.severity not in _HARMLESS_SEVERITIES for issue in outcome.issue)
