"""FHIR R4 search plumbing shared by the adapters that page through search results.

:func:`search_resources` reads a search page after page, following ``link[relation=next]`` while the
link stays on the source's origin and under its FHIR base (``/fhir``): an absolute link, a path, a
link relative to the FHIR base (``Appointment?page=2``) or HAPI's ``[base]?_getpages=…`` all qualify;
another host, another base path or a ``..`` segment never does, so an upstream can never make the
gateway send its credentials elsewhere. It answers with what it read and what the answer lacks:

- ``match`` entries (and entries without a search mode) are the results; ``include`` entries are
  kept apart, by ``Type/id``, for resolving references (:attr:`SearchAnswer.included`);
- an ``OperationOutcome`` entry with an ``error`` or ``fatal`` issue is the source saying its answer
  is partial (a partition timed out): a :class:`~sources.errors.SourceIncomplete` problem; ``warning``
  and ``information`` issues are not;
- a page budget (:data:`MAX_PAGES`) that runs out, or a later page that fails, keeps the results so
  far and adds a problem; only a first page that fails raises.

:func:`resolve_link` turns a link an upstream sent (a document attachment) into a path under the
source's base URL, or refuses it; :func:`window_pairs` writes a date window as FHIR search prefixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.clinical import DateWindow
from sources.errors import SourceError, SourceIncomplete
from sources.payloads import FhirModel

MAX_PAGES = 50
"""Pages one search may take by default (a server capping ``_count`` at 10 still gives 500 items);
an endpoint may set its own (``Endpoint.max_pages``)."""

_FAILED_SEVERITIES = frozenset({"error", "fatal"})


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


def window_pairs(name: str, window: DateWindow) -> list[tuple[str, str]]:
    """A half-open date window as FHIR search prefixes: ``ge<start>`` and ``lt<end>`` (only the set bounds)."""
    pairs = []
    if window.start is not None:
        pairs.append((name, f"ge{window.start.isoformat()}"))
    if window.end is not None:
        pairs.append((name, f"lt{window.end.isoformat()}"))
    return pairs


def resolve_link(client: SourceClient, url: str, *, current: str = "/", under: str = "") -> str | None:
    """``url`` as a path (with query) under the client's base URL, or ``None`` when it leaves it.

    ``url`` may be absolute or relative; a relative one is read against ``current`` (a path under the
    base URL, the page that sent it), and a path (``/fhir/...``) against the base URL. The result must
    keep the base URL's scheme, host and port and lie under ``<base path><under>``; a ``..`` segment
    is refused outright.
    """
    base = httpx.URL(client.config.base_url)
    prefix = base.raw_path.decode("ascii").rstrip("/")
    if url.startswith("/") and not url.startswith("//") and not url.startswith(prefix + "/"):
        url = prefix + url
    try:
        here = base.copy_with(raw_path=(prefix + current).encode("ascii"))
        link = here.join(url)
        raw = link.raw_path.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return None
    segments = url.split("?", 1)[0].split("#", 1)[0].split("/")
    if any(s.lower() in ("..", ".", "%2e%2e", "%2e") for s in segments):
        return None
    if (link.scheme, link.host, link.port) != (base.scheme, base.host, base.port):
        return None
    root = prefix + under.rstrip("/")
    path = raw.split("?", 1)[0]
    if path != root and not path.startswith(root + "/"):
        return None
    return raw[len(prefix) :]


async def search_resources(
    client: SourceClient, path: str, pairs: Sequence[tuple[str, str]], *, max_pages: int = MAX_PAGES
) -> SearchAnswer:
    """Every result of a FHIR search on ``path`` (``/fhir/<Type>``), following ``next`` links.

    A first page that is not a searchset Bundle raises :class:`~sources.errors.SourceResponseInvalid`
    (and a transport failure its ``SourceError``); everything after that is a problem of the answer.
    """
    fhir_base = path.rsplit("/", 1)[0]
    target = f"{path}?{urlencode(list(pairs))}"
    answer = SearchAnswer()
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
        if resource["resourceType"] == "OperationOutcome":
            if _failed(resource):
                answer.problems.append(SourceIncomplete(client.name, "the source reported an error in its answer"))
        elif mode == "include":
            key = f"{resource['resourceType']}/{resource.get('id')}"
            answer.included[key] = resource
            if entry.full_url:
                answer.included[entry.full_url] = resource
        elif mode in (None, "match"):
            answer.resources.append(resource)


def _failed(resource: dict[str, Any]) -> bool:
    """Whether an ``OperationOutcome`` reports an error (one that cannot be read counts as one)."""
    try:
        outcome = _Outcome.model_validate(resource)
    except ValidationError:
        return True
    return any(issue.severity in _FAILED_SEVERITIES for issue in outcome.issue)
