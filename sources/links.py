"""Links an upstream sends (a search's ``next`` page, a document's attachment), checked before they are followed.

An upstream must never be able to make the gateway send the source's credentials anywhere but under
the source's own base URL. A link is followed only when it keeps the base URL's scheme, host and
port and lies under ``<base path><under>``; it may be absolute, a path (read against the base URL),
relative to the page that sent it (``Appointment?page=2``), or a query alone (HAPI's
``[base]?_getpages=…``).

The path is checked **as the upstream's server would read it**, not as written: percent-escapes of
unreserved characters are decoded (``%2e`` is ``.``, RFC 3986 §6.2.2.2), and ``%2F``, ``%5C`` and a
backslash are path separators (many servers and proxies split on them). A link whose path so read
contains a dot segment (``..`` or ``.``, in any spelling: ``.%2e``, ``%2E.``, ``..%2F``, ``..\\``,
``..;x``, and ``%252e%252e``, which is one once a server or proxy decodes twice) is refused outright,
never resolved. What is followed is that normalised path, and the URL the
transport will send is checked once more as aiohttp's URL library (yarl) reads it, since yarl
decodes and removes dot segments itself. Whitespace or control characters anywhere refuse a link.
"""

from __future__ import annotations

import functools
import re
import string

import httpx
import yarl

from sources.base import SourceClient

__all__ = ["resolve_link"]

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_DOT_SEGMENTS = frozenset({".", ".."})


def _as_read(path: str) -> str:
    """``path`` as a server reads it: unreserved escapes decoded, ``%2F``, ``%5C`` and ``\\`` as ``/``."""

    def decode(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        if char in _UNRESERVED:
            return char
        if char in "/\\":
            return "/"
        return "%" + match.group(1).upper()

    return _ESCAPE.sub(decode, path.replace("\\", "/"))


def _has_dot_segment(path: str) -> bool:
    """Whether a segment of ``path`` as read is ``.`` or ``..``, also with a path parameter (``..;x``)."""
    return any(segment.split(";", 1)[0] in _DOT_SEGMENTS for segment in _as_read(path).split("/"))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


def resolve_link(client: SourceClient, url: str, *, current: str = "/", under: str = "") -> str | None:
    """``url`` as a path (with query) under the client's base URL, or ``None`` when it leaves it.

    ``url`` may be absolute or relative; a relative one is read against ``current`` (a path under the
    base URL, the page that sent it), and a path (``/fhir/...``) against the base URL. The result keeps
    the base URL's scheme, host and port, lies under ``<base path><under>`` and has no dot segment,
    however the link spells it; it is the normalised path (see the module), which is what the
    transport then sends. The answer depends on nothing else, so the last :data:`RESOLVED_KEPT` are
    remembered: a cached DDS document's attachment link is checked once, not on every request.
    """
    return _resolved(client.config.base_url, url, current, under)


RESOLVED_KEPT = 4096
"""Links whose resolution is remembered (per base URL, page and root), least recently used out first."""


@functools.lru_cache(maxsize=RESOLVED_KEPT)
def _resolved(base_url: str, url: str, current: str, under: str) -> str | None:
    if not url or any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return None
    url = url.replace("\\", "/")
    if _has_dot_segment(url.split("?", 1)[0].split("#", 1)[0]):
        return None
    base = httpx.URL(base_url)
    prefix = base.raw_path.decode("ascii").rstrip("/")
    if url.startswith("/") and not url.startswith("//") and not url.startswith(prefix + "/"):
        url = prefix + url
    try:
        here = base.copy_with(raw_path=(prefix + current).encode("ascii"))
        link = here.join(url)
        raw = link.raw_path.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return None
    if (link.scheme, link.host, link.port) != (base.scheme, base.host, base.port):
        return None
    raw_path, mark, query = raw.partition("?")
    path = _as_read(raw_path)
    root = prefix + under.rstrip("/")
    if _has_dot_segment(path) or not _under(path, root):
        return None
    followed = path + mark + query
    return followed[len(prefix) :] if _sent_as_checked(base, followed, root) else None


def _sent_as_checked(base: httpx.URL, followed: str, root: str) -> bool:
    """Whether the URL the transport sends for ``followed`` still lies under ``root`` as httpx and yarl read it."""
    try:
        sent = base.copy_with(raw_path=followed.encode("ascii"))
        seen = yarl.URL(str(sent))
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return False
    return not any(_has_dot_segment(path) or not _under(path, root) for path in (sent.path, seen.path, seen.raw_path))
