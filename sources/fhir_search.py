"""FHIR R4 search plumbing shared by the adapters that page through search results.

:func:`search_resources` follows ``link[relation=next]`` page after page, bounded, and only while
the link stays on the same source and the same search path; :func:`resolve_link` turns a link an
upstream sent (a next page, a document attachment) into a path under the source's base URL, or
refuses it, so an upstream can never make the gateway fetch from elsewhere; :func:`window_pairs`
writes a date window as FHIR search prefixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.clinical import DateWindow
from sources.payloads import FhirModel

MAX_PAGES = 20


class _Entry(FhirModel):
    resource: dict[str, Any]


class _Link(FhirModel):
    relation: str
    url: str = Field(min_length=1)


class _Bundle(FhirModel):
    resource_type: Literal["Bundle"]
    entry: list[_Entry] = Field(default_factory=list)
    link: list[_Link] = Field(default_factory=list)


def window_pairs(name: str, window: DateWindow) -> list[tuple[str, str]]:
    """A half-open date window as FHIR search prefixes: ``ge<start>`` and ``lt<end>`` (only the set bounds)."""
    pairs = []
    if window.start is not None:
        pairs.append((name, f"ge{window.start.isoformat()}"))
    if window.end is not None:
        pairs.append((name, f"lt{window.end.isoformat()}"))
    return pairs


def resolve_link(client: SourceClient, url: str) -> str | None:
    """``url`` (a next link, an attachment) as a path under the client's base URL, or ``None``.

    Relative URLs are taken relative to the base URL; an absolute one must have the base URL's
    scheme, host and port and lie under its path. Anything else (another host, ``..``) is refused.
    """
    try:
        link = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    if ".." in link.path.split("/"):
        return None
    raw = link.raw_path.decode("ascii")
    if not link.scheme and not link.host:
        return raw if raw.startswith("/") else None
    base = httpx.URL(client.config.base_url)
    if (link.scheme, link.host, link.port) != (base.scheme, base.host, base.port):
        return None
    prefix = base.raw_path.decode("ascii").rstrip("/")
    if not raw.startswith(prefix + "/"):
        return None
    return raw[len(prefix) :]


async def search_resources(
    client: SourceClient, path: str, pairs: Sequence[tuple[str, str]], *, max_pages: int = MAX_PAGES
) -> list[dict[str, Any]]:
    """Every entry resource of a FHIR search on ``path``, following ``next`` links.

    A next link that leaves the source or the search path, or more than ``max_pages`` pages, makes
    the answer :class:`~sources.errors.SourceResponseInvalid`.
    """
    target = f"{path}?{urlencode(list(pairs))}"
    resources: list[dict[str, Any]] = []
    for _ in range(max_pages):
        payload = await client.get_json(target)
        try:
            bundle = _Bundle.model_validate(payload)
        except ValidationError as exc:
            raise client.invalid("search bundle failed validation") from exc
        resources.extend(entry.resource for entry in bundle.entry)
        following = next((link.url for link in bundle.link if link.relation == "next"), None)
        if following is None:
            return resources
        resolved = resolve_link(client, following)
        if resolved is None or resolved.split("?", 1)[0] != path:
            raise client.invalid("next link leaves the search")
        target = resolved
    raise client.invalid("search has too many pages")
