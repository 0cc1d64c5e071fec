"""Links an upstream sends are followed only under the source's FHIR base, however they spell a way out.

The family: a dot segment written with any mix of ``.``, ``%2e`` and ``%2E``, joined by any separator a
server may split on (``/``, ``%2F``, ``%2f``, ``\\``, ``%5C``), with or without a path parameter
(``..;x``), in an absolute link, a path, or a link relative to the page; plus other hosts, ports and
schemes. Whatever is followed is checked once more as yarl (aiohttp's URL library) will send it.
"""

from __future__ import annotations

import uuid

import httpx
import yarl
from hypothesis import given
from hypothesis import strategies as st

from sources.base import SourceClient, SourceConfig
from sources.links import _resolved, resolve_link

BASE = "http://127.0.0.1:8110"
CLIENT = SourceClient(SourceConfig("region", BASE), httpx.AsyncClient())
PAGE = "/fhir/Appointment?patient.identifier=x"

dot = st.sampled_from([".", "%2e", "%2E"])
dots = st.one_of(dot, st.tuples(dot, dot).map("".join))
separators = st.sampled_from(["/", "%2F", "%2f", "\\", "%5C", "%5c"])
parameters = st.sampled_from(["", ";x", ";"])
names = st.sampled_from(["admin", "fhir", "Appointment", "_sandbox", ""])


@st.composite
def escaping_paths(draw: st.DrawFn) -> str:
    """A path under ``/fhir`` that holds a dot segment in some spelling, and somewhere to go after it."""
    before = draw(st.lists(names.filter(bool), max_size=2))
    segment = draw(dots) + draw(parameters)
    after = draw(st.lists(names, max_size=2))
    separator = draw(separators)
    return "/fhir/" + "".join(f"{n}/" for n in before) + segment + separator + separator.join(after)


forms = st.sampled_from(["absolute", "path", "relative"])


def written(path: str, form: str) -> str:
    """``path`` (under ``/fhir``) as an absolute link, a path, or a link relative to the page."""
    if form == "absolute":
        return BASE + path
    if form == "relative":
        return path.removeprefix("/fhir/")
    return path


def followed_within(link: str | None) -> bool:
    """Nothing followed, or what is followed stays under ``/fhir`` as httpx and yarl send it."""
    if link is None:
        return True
    sent = httpx.URL(BASE).copy_with(raw_path=link.encode("ascii"))
    seen = yarl.URL(str(sent))
    return all(p == "/fhir" or p.startswith("/fhir/") for p in (sent.path, seen.path)) and ".." not in seen.path


@given(escaping_paths(), forms, st.sampled_from(["", "?page=2", "?_getpages=a&_getpagesoffset=10"]))
def test_a_link_with_a_dot_segment_in_any_spelling_is_never_followed(path: str, form: str, query: str) -> None:
    assert resolve_link(CLIENT, written(path, form) + query, current=PAGE, under="/fhir") is None


@given(st.lists(names.filter(bool), min_size=1, max_size=3), forms, st.sampled_from(["", "?page=2"]))
def test_a_plain_link_under_the_base_is_followed_as_the_transport_sends_it(
    segments: list[str], form: str, query: str
) -> None:
    path = "/fhir/" + "/".join(segments)

    link = resolve_link(CLIENT, written(path, form) + query, current=PAGE, under="/fhir")

    assert link == path + query
    assert followed_within(link)


@given(
    st.sampled_from(["http://evil.example", "http://127.0.0.1:8111", "https://127.0.0.1:8110", "http://localhost:8110",
                     "//127.0.0.1:8111", "http://127.0.0.1:8110@evil.example", "HTTP://evil.example"]),
    st.sampled_from(["/fhir/Appointment?page=2", "/admin", "/fhir"]),
)  # fmt: skip
def test_a_link_to_another_origin_is_never_followed(origin: str, path: str) -> None:
    assert resolve_link(CLIENT, origin + path, current=PAGE, under="/fhir") is None


@given(st.text(max_size=40), forms)
def test_whatever_a_link_says_what_is_followed_stays_under_the_base(text: str, form: str) -> None:
    link = resolve_link(CLIENT, written("/fhir/" + text, form), current=PAGE, under="/fhir")

    assert followed_within(link)


def test_the_reviewers_links() -> None:
    refused = [
        "/fhir/.%2e/admin?page=2",
        "/fhir/%2e./admin",
        "/fhir/..%2Fadmin",
        "/fhir/..\\admin",
        "/fhir/%2E%2E/admin?page=2",
        "/fhir/Appointment/..;/admin",
        "/fhir/%252e%252e/admin",  # a dot segment once a server or proxy decodes twice
        "javascript:alert(1)",
        " /fhir/Appointment?page=2",
    ]
    followed = {
        "HTTP://127.0.0.1:8110/fhir/Appointment?page=2": "/fhir/Appointment?page=2",
        "/fhir?_getpages=abc&_getpagesoffset=50": "/fhir?_getpages=abc&_getpagesoffset=50",
        "Appointment?page=2": "/fhir/Appointment?page=2",
        "?page=2": "/fhir/Appointment?page=2",
        "/fhir/Appointment?page=2#frag": "/fhir/Appointment?page=2",
        "/fhir/%41ppointment?page=2": "/fhir/Appointment?page=2",
    }

    assert [link for link in refused if resolve_link(CLIENT, link, current=PAGE, under="/fhir")] == []
    assert {link: resolve_link(CLIENT, link, current=PAGE, under="/fhir") for link in followed} == followed


def test_a_link_is_checked_once_however_often_it_is_followed() -> None:
    link = f"/fhir/Binary/{uuid.uuid4()}"
    before = _resolved.cache_info()

    followed = {resolve_link(CLIENT, link, under="/fhir") for _ in range(5)}

    after = _resolved.cache_info()
    assert followed == {link}
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 4)
