"""Trusted documents (persisted operations): a client's manifest of operations, run by id.

A client registration may name a manifest (``trusted_documents`` in ``PATIENTOVERBLIK_CLIENTS``), read
by :mod:`gateway.manifests`: a JSON object from document id to GraphQL document, or a folder of
``<id>.graphql`` files. Each document is then reachable three ways:

- ``{"documentId": "<id>"}`` (GraphQL over HTTP's persisted documents) or ``"sha256:<hex>"``;
- Apollo's APQ form ``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}``,
  the hash being SHA-256 of the document text; with ``query`` too, the hash must match it;
- its text sent whole as ``query``.

A client marked ``trusted_documents_only`` runs nothing else: any other document is refused before it
is parsed (``DOCUMENT_NOT_TRUSTED``, HTTP 403). An unknown id or hash is ``PERSISTED_QUERY_NOT_FOUND``
(HTTP 400; an APQ client then sends the text). Documents sent by clients are never stored: only
manifests the operator registered are trusted (ADR 0017).

At start every manifest is read and each document checked (:func:`check_manifest`): it parses within
the token limit, validates against the schema and the depth and alias limits, and selects only fields
the client's allow-list allows. A manifest that fails stops the gateway with one line naming the
client, the document and the reason (:class:`ManifestError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    specified_rules,
    validate,
    visit,
)

from gateway.errors import ErrorCode
from gateway.limits import Limits, operation_limits_rule, parse_document
from gateway.manifests import DOCUMENT_ID, ManifestError, TrustedDocument, sha256_of
from gateway.request import RequestRefused, bad_request

_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class TrustedDocuments:
    """A client's manifest, by id and by hash; empty for a client without one."""

    documents: tuple[TrustedDocument, ...] = ()
    _by_id: dict[str, TrustedDocument] = field(default_factory=dict, repr=False)
    _by_hash: dict[str, TrustedDocument] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, documents: list[TrustedDocument]) -> TrustedDocuments:
        by_hash = {d.sha256: d for d in documents}
        by_id = {d.id: d for d in documents} | {f"sha256:{h}": d for h, d in by_hash.items()}
        return cls(tuple(documents), by_id, by_hash)

    def by_id(self, document_id: str) -> TrustedDocument | None:
        """The document with this id, or ``sha256:<hex>`` of its text."""
        return self._by_id.get(document_id)

    def by_hash(self, sha256: str) -> TrustedDocument | None:
        """The document whose text hashes to ``sha256`` (lower-case hex)."""
        return self._by_hash.get(sha256)


def check_manifest(
    client_id: str,
    documents: list[TrustedDocument],
    schema: GraphQLSchema,
    allows: Callable[[str], bool] | None,
    limits: Limits,
) -> TrustedDocuments:
    """The manifest, each document checked as a request would be and against the client's allow-list.

    ``allows`` is the client's field allow-list (``None``: every field). Raises :class:`ManifestError`.
    """
    rules = [*specified_rules, operation_limits_rule(limits.max_depth, limits.max_aliases)]
    checked = []
    for document in documents:
        where = f"client '{client_id}': trusted document '{document.id}'"
        try:
            parsed = parse_document(document.text, limits.max_tokens)
        except GraphQLError as error:
            raise ManifestError(f"{where} does not parse: {error.message}") from None
        errors = validate(schema, parsed, rules)
        if errors:
            raise ManifestError(f"{where} is not valid against the schema: {errors[0].message}")
        if allows is not None:
            forbidden = [c for c in selected_coordinates(schema, parsed) if not allows(c)]
            if forbidden:
                raise ManifestError(
                    f"{where} selects {forbidden[0]}, which the client's field allow-list does not allow"
                )
        names = tuple(
            d.name.value for d in parsed.definitions if isinstance(d, OperationDefinitionNode) and d.name is not None
        )
        checked.append(TrustedDocument(document.id, document.text, document.sha256, names))
    return TrustedDocuments.of(checked)


class _Selected(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.found: list[str] = []

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None and not node.name.value.startswith("__"):
            self.found.append(f"{parent.name}.{node.name.value}")


def selected_coordinates(schema: GraphQLSchema, document: Any) -> list[str]:
    """Every field coordinate (``Type.field``) the document selects, in order, introspection left out."""
    type_info = TypeInfo(schema)
    selected = _Selected(type_info)
    visit(document, TypeInfoVisitor(type_info, selected))
    return list(dict.fromkeys(selected.found))


def _not_found(message: str) -> RequestRefused:
    return RequestRefused(400, ErrorCode.PERSISTED_QUERY_NOT_FOUND, message)


def resolve(body: Mapping[str, Any], documents: TrustedDocuments, only_trusted: bool) -> dict[str, Any]:
    """The request ``body`` with ``query`` filled in from the manifest when it names a document by id or hash.

    Raises :class:`RequestRefused`: ``BAD_REQUEST`` for a malformed id or hash or a hash that does
    not match the text, ``PERSISTED_QUERY_NOT_FOUND`` for an unknown one, ``DOCUMENT_NOT_TRUSTED``
    when a client that runs only trusted documents sends another one.
    """
    resolved = dict(body)
    query = body.get("query")
    document_id = body.get("documentId")
    extensions = body.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
    if document_id is not None:
        if not isinstance(document_id, str) or not DOCUMENT_ID.match(document_id):
            raise bad_request("The request's `documentId` must be a string of 1-200 of A-Z a-z 0-9 : . _ -.")
        if query is not None:
            raise bad_request("Send either `query` or `documentId`, not both.")
        found = documents.by_id(document_id)
        if found is None:
            raise _not_found("No trusted document of your client has this documentId.")
        resolved["query"] = found.text
        return resolved
    if persisted is not None:
        sha256 = persisted.get("sha256Hash") if isinstance(persisted, Mapping) else None
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1 or not isinstance(sha256, str):
            raise bad_request("`extensions.persistedQuery` must be {version: 1, sha256Hash: <hex SHA-256>}.")
        sha256 = sha256.lower()
        if not _SHA256.match(sha256):
            raise bad_request("`extensions.persistedQuery.sha256Hash` must be 64 hexadecimal digits.")
        if query is None:
            found = documents.by_hash(sha256)
            if found is None:
                raise _not_found("PersistedQueryNotFound: no trusted document of your client has this sha256Hash.")
            resolved["query"] = found.text
            return resolved
        if not isinstance(query, str) or sha256_of(query) != sha256:
            raise bad_request("`extensions.persistedQuery.sha256Hash` does not match the query.")
    if only_trusted and (not isinstance(query, str) or documents.by_hash(sha256_of(query)) is None):
        raise RequestRefused(
            403,
            ErrorCode.DOCUMENT_NOT_TRUSTED,
            "Your client runs only its trusted documents: send a `documentId` from its manifest.",
        )
    return resolved
