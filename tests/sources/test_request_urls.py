"""The URL an upstream call goes to is the one httpx builds from the base URL, the path and the parameters.

``SourceClient.url`` parses it once instead of three times (ADR 0027); for any path and parameters an
adapter may pass (paths with their own query, percent-escapes, reserved and non-ASCII characters,
fragments, links relative to the page or leaving the host), the request sent is byte for byte the one
httpx would have sent.
"""

from __future__ import annotations

from unittest.mock import Mock, patch

import httpx
from httpx._urlparse import urlparse as httpx_urlparse
from hypothesis import given
from hypothesis import strategies as st

from sources.base import SourceClient, SourceConfig

BASES = ("http://127.0.0.1:8101", "http://127.0.0.1:8101/", "https://cpr.example/api/v2", "http://[::1]:9000/x/")

characters = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
segments = st.one_of(
    st.sampled_from(["fhir", "Patient", "sikrede", "%2F", "%7C", "a b", "æøå", "..", "$everything", "_history"]),
    st.text(characters, max_size=8),
)
queries = st.one_of(
    st.just(""),
    st.sampled_from(["?identifier=urn:oid:1.2.208.176.1.2%7C1403723705", "?a=1&a=2", "?x=%zz", "?q=a+b", "?"]),
    st.text(characters, max_size=12).map(lambda text: "?" + text),
)
paths = st.one_of(
    st.builds(lambda parts, query: "/" + "/".join(parts) + query, st.lists(segments, max_size=4), queries),
    st.sampled_from(["", "fhir/Patient", "//evil.example/x", "http://other.example/fhir", "/fhir#x", "/a?b#c"]),
)
parameters = st.one_of(
    st.none(),
    st.dictionaries(st.text(characters, min_size=1, max_size=6), st.text(characters, max_size=12), max_size=3),
)


def wire(url: httpx.URL) -> tuple[bytes, bytes, int | None, bytes]:
    """What goes out: scheme, host, port and the request target."""
    return url.raw_scheme, url.raw_host, url.port, url.raw_path


def httpx_url(client: httpx.AsyncClient, path: str, params: dict[str, str] | None) -> httpx.URL | type[Exception]:
    try:
        return client.build_request("GET", path, params=params).url
    except (httpx.InvalidURL, ValueError) as exc:
        return type(exc)


def our_url(client: httpx.AsyncClient, path: str, params: dict[str, str] | None) -> httpx.URL | type[Exception]:
    source = SourceClient(SourceConfig("cpr", str(client.base_url)), client)
    try:
        target = source.url(path, params)
        return client.build_request("GET", target, params=None if isinstance(target, httpx.URL) else params).url
    except (httpx.InvalidURL, ValueError) as exc:
        return type(exc)


@given(base=st.sampled_from(BASES), path=paths, params=parameters)
def test_every_call_goes_where_httpx_would_send_it(base: str, path: str, params: dict[str, str] | None) -> None:
    client = httpx.AsyncClient(base_url=base)
    ours, theirs = our_url(client, path, params), httpx_url(client, path, params)
    if isinstance(theirs, httpx.URL):
        assert isinstance(ours, httpx.URL) and wire(ours) == wire(theirs)
    else:
        assert ours == theirs


def test_a_path_under_the_base_url_is_parsed_once() -> None:
    client = httpx.AsyncClient(base_url="http://127.0.0.1:8101")
    source = SourceClient(SourceConfig("cpr", "http://127.0.0.1:8101"), client)
    params = {"cpr": "1403723705,2309510372"}

    parses = Mock(wraps=httpx_urlparse)
    with patch("httpx._urls.urlparse", parses), patch("httpx._urlparse.urlparse", parses):
        sent = client.build_request("GET", source.url("/sikrede", params)).url
        ours = parses.call_count
        client.build_request("GET", "/sikrede", params=params)
        theirs = parses.call_count - ours

    assert (ours, theirs) == (1, 3)
    assert str(sent) == "http://127.0.0.1:8101/sikrede?cpr=1403723705%2C2309510372"
