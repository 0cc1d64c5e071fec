"""The token issuer's JSON Web Key Set, fetched over HTTP.

The issuer (the demo issuer in the sandbox, or a real identity provider) publishes its signing keys
at a JWKS URL. This adapter fetches and validates the document's shape; ``auth/tokens.py`` caches it
and verifies signatures with it.
"""

from __future__ import annotations

from typing import Any

from sources.base import SourceClient


class JwksSource:
    """Reads the issuer's key set."""

    def __init__(self, client: SourceClient, path: str = "") -> None:
        self._client = client
        self._path = path

    async def key_set(self) -> dict[str, Any]:
        """The key set document, ``{"keys": [...]}``, each key a JSON object with ``kty``."""
        document = await self._client.get_json(self._path)
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, dict) and "kty" in k for k in keys):
            raise self._client.invalid("not a JSON Web Key Set")
        return {"keys": keys}
