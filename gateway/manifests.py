"""Reading a client's trusted-documents manifest: a JSON file or a folder of ``.graphql`` files (ADR 0017).

A manifest is either

- a JSON file of an object from document id to GraphQL document, the format GraphQL Code Generator's
  client preset and Relay write (``{"<id>": "query Overview($cpr: CPR!) { … }", …}``), or
- a folder of ``<id>.graphql`` files, one document each, as the web page keeps its operations
  (``gateway/static/web/operations``, ADR 0015).

Reading checks only the shape; :func:`gateway.trusted.check_manifest` checks each document against the
schema and the client's allow-list. Every fault is a :class:`ManifestError` of one line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DOCUMENT_ID: Final = re.compile(r"^[A-Za-z0-9:._-]{1,200}$")
"""What a document id may be (a ``documentId`` the gateway takes)."""
MAX_MANIFEST_BYTES: Final = 8 * 1024 * 1024
"""A manifest larger than this is refused at start."""


class ManifestError(ValueError):
    """A client's registration cannot be trusted (its manifest, or an allow-list naming what the schema does not
    have); the message is one line naming the client, what is wrong and why."""


def sha256_of(text: str) -> str:
    """The hex SHA-256 of a document's UTF-8 text (APQ's ``sha256Hash``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    """One document of a manifest."""

    id: str
    text: str
    sha256: str
    operation_names: tuple[str, ...]


def read_manifest(client_id: str, path: Path) -> list[TrustedDocument]:
    """The documents of the manifest at ``path``: a JSON file or a folder of ``.graphql`` files.

    Raises :class:`ManifestError` when the file is not an id → document object, or the folder holds no
    ``.graphql`` file or one whose name is not an id.
    """
    if path.is_dir():
        return _read_folder(f"client '{client_id}': trusted documents folder {path}", path)
    where = f"client '{client_id}': trusted documents file {path}"
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{where} is over {MAX_MANIFEST_BYTES} bytes")
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{where} cannot be read: {exc.strerror or type(exc).__name__}") from None
    except ValueError:
        raise ManifestError(f"{where} is not UTF-8 JSON") from None
    if not isinstance(value, dict) or not value:
        raise ManifestError(f"{where} must be a non-empty JSON object from document id to document")
    documents = []
    for document_id, text in value.items():
        if not DOCUMENT_ID.match(document_id):
            raise ManifestError(f"{where}: the id {document_id[:40]!r} is not 1-200 of A-Z a-z 0-9 : . _ -")
        if not isinstance(text, str) or not text.strip():
            raise ManifestError(f"{where}: document '{document_id}' is not a GraphQL document string")
        documents.append(TrustedDocument(document_id, text, sha256_of(text), ()))
    return documents


def _read_folder(where: str, folder: Path) -> list[TrustedDocument]:
    """Each ``<id>.graphql`` file of ``folder`` (not its sub-folders), in name order, as one document."""
    documents = []
    size = 0
    for path in sorted(folder.glob("*.graphql")):
        if not DOCUMENT_ID.match(path.stem):
            raise ManifestError(f"{where}: {path.name[:40]!r} is not named 1-200 of A-Z a-z 0-9 : . _ - and .graphql")
        try:
            size += path.stat().st_size
            if size > MAX_MANIFEST_BYTES:
                raise ManifestError(f"{where} is over {MAX_MANIFEST_BYTES} bytes")
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ManifestError(f"{where}: {path.name} cannot be read: {exc.strerror or type(exc).__name__}") from None
        except ValueError:
            raise ManifestError(f"{where}: {path.name} is not UTF-8") from None
        if not text.strip():
            raise ManifestError(f"{where}: {path.name} is empty")
        documents.append(TrustedDocument(path.stem, text, sha256_of(text), ()))
    if not documents:
        raise ManifestError(f"{where} holds no .graphql file")
    return documents
