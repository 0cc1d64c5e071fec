"""The token issuer's JSON Web Key Set, fetched over HTTP.

The issuer (the demo issuer in the sandbox, or a real identity provider) publishes its signing keys
at a JWKS URL. This adapter fetches the document within the source's deadline and body limit
(``SourceConfig.timeout_s``, ``max_body_bytes``) and checks its shape only: a JSON object whose
``keys`` member is a list (RFC 7517 §5). Each member of the list is returned as it came, so that
``auth/keys.py`` can skip the ones it cannot use one by one rather than lose the whole set.
"""

from __future__ import annotations

from typing import Any

from sources.base import SourceClient


class JwksSource:
    """Reads the issuer's key set."""

    def __init__(self, client: SourceClient, path: str = "") -> None:
        self._client = client
        self._path = path

    async def key_set(self) -> dict[str, list[Any]]:
        """The key set document, ``{"keys": [...]}``, its members unchecked.

        Raises ``SourceError``: ``SourceResponseInvalid`` when the body is larger than the limit, is
        not JSON, is not an object or has no ``keys`` list; ``SourceTimeout`` past the deadline;
        ``SourceUnavailable`` when the issuer cannot be reached or answers an error status.
        """
        document = await self._client.get_json(self._path)
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise self._client.invalid("not a JSON Web Key Set")
        return {"keys": keys}
