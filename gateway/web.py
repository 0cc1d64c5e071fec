"""The web page for people (issue 14, ADR 0015): plain files in ``gateway/static/web``, served at ``/``.

The page is a reference client: ES modules and ``.graphql`` operation files, no build step, talking
to ``/graphql`` with a bearer token like any frontend. The gateway only serves the files:

- ``GET /``: ``index.html``;
- ``GET /web/config.json``: ``{"graphql": "/graphql", "demoIssuer": <origin> | null, "clientId": …,
  "documents": {"<Name>": "sha256:<hex>", …}}``: where the page sends its operations, the demo token
  issuer its persona picker signs in with (only when :attr:`gateway.settings.Settings.web_demo_issuer_url`
  is set, as ``patientoverblik demo`` does), the client ID it asks that issuer for, and the
  ``documentId`` of each operations file, read at start;
- ``GET /web/<file>``: the page's scripts, stylesheet and operations (``operations/<Name>.graphql``).

The operations folder is also the page's trusted-documents manifest: with the page on, the gateway
registers the page's client (``Settings.web_client_id``) with it and with :data:`WEB_PAGE_FIELDS`
(``Settings.web_page_client``), so the page sends ``{"documentId": "sha256:<hex>"}`` and its client can
run those documents only. An id is the SHA-256 of the file's text: a changed file has a new id, so no
tab holding an old id is ever answered with a changed document (ADR 0015).

Every answer carries a Content-Security-Policy that allows scripts, styles and requests to this
origin only (plus the demo issuer for requests), so the bearer token the page holds in
``sessionStorage`` is out of reach of injected scripts and foreign origins. Served only when
``Settings.web_page`` is on (``PATIENTOVERBLIK_WEB_PAGE``); off by default outside the demo.
"""

from __future__ import annotations

import os
from os import PathLike
from pathlib import Path
from typing import Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.manifests import read_manifest

WEB_DIR: Final = Path(__file__).resolve().parent / "static" / "web"
"""The page's files: ``index.html``, ``app.css``, ``js/``, ``operations/``."""
OPERATIONS_DIR: Final = WEB_DIR / "operations"
"""The page's GraphQL operations, one named operation per ``<Name>.graphql`` file."""
MOUNT_PATH: Final = "/web"
WEB_PAGE_FIELDS: Final = (
    "Query.patient",
    "Mutation.updateMasterCard",
    "Mutation.createBlock",
    "Mutation.revokeBlock",
    "Patient.*",
    "Person.*",
    "PostalAddress.*",
    "GeneralPractitioner.*",
    "DoctorConnection.*",
    "Doctor.*",
    "MasterCard.*",
    "Relative.*",
    "TemporaryAddress.*",
    "Registrations.*",
    "RegistrationDetails.*",
    "TreatmentWill.*",
    "LivingWill.*",
    "OrganDonation.*",
    "ResuscitationOptOut.*",
    "Appointments.*",
    "AppointmentConnection.*",
    "AppointmentDay.*",
    "AppointmentWeek.*",
    "Appointment.*",
    "AppointmentLocation.*",
    "Organisation.*",
    "Coding.*",
    "Period.*",
    "SourceStatus.*",
    "CarePlanConnection.*",
    "CarePlan.*",
    "Intervention.*",
    "GoalConnection.*",
    "Goal.*",
    "DiagnosisConnection.*",
    "Diagnosis.*",
    "AccessLogEntryConnection.*",
    "AccessLogEntry.*",
    "AccessOverride.*",
    "BlockConnection.*",
    "Block.*",
)
"""The page's client's field allow-list: a patient's data as a person reads it and the person's own writes;
not ``Query._entities`` (Federation) or another system's fields. ``me`` is always allowed."""

_MEDIA_TYPES: Final = {".graphql": "application/graphql; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def content_security_policy(demo_issuer: str | None) -> str:
    """The page's CSP: this origin only, and requests to the demo issuer when one is configured."""
    connect = "'self'" if demo_issuer is None else f"'self' {demo_issuer}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _security_headers(demo_issuer: str | None) -> dict[str, str]:
    return {
        "content-security-policy": content_security_policy(demo_issuer),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
    }


class _PageFiles(StaticFiles):
    """The page's folder: no directory listing, explicit media types, the page's security headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(directory=WEB_DIR)
        self._headers = headers

    def file_response(
        self, full_path: str | PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = _MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type is not None:
            response.headers["content-type"] = media_type
        response.headers.update(self._headers)
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path in ("", "."):  # the folder itself: no listing
            raise HTTPException(404)
        return await super().get_response(path, scope)


def document_ids() -> dict[str, str]:
    """Each operations file's ``documentId``, by file name without ``.graphql``: ``sha256:`` and its text's hash.

    Raises :class:`gateway.manifests.ManifestError` when the folder cannot be read as a manifest.
    """
    return {d.id: f"sha256:{d.sha256}" for d in read_manifest("web page", OPERATIONS_DIR)}


def web_routes(demo_issuer: str | None, client_id: str) -> list[BaseRoute]:
    """The routes of the page: ``/``, ``/web/config.json`` and the files under ``/web``."""
    headers = _security_headers(demo_issuer)
    config = {"graphql": "/graphql", "demoIssuer": demo_issuer, "clientId": client_id, "documents": document_ids()}

    async def index(request: Request) -> Response:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=headers)

    async def page_config(request: Request) -> Response:
        return JSONResponse(config, headers=headers)

    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Route(f"{MOUNT_PATH}/config.json", page_config, methods=["GET", "HEAD"]),
        Mount(MOUNT_PATH, _PageFiles(headers)),
    ]


__all__ = [
    "MOUNT_PATH",
    "OPERATIONS_DIR",
    "WEB_DIR",
    "WEB_PAGE_FIELDS",
    "content_security_policy",
    "document_ids",
    "web_routes",
]
