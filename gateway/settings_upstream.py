"""How the gateway proves who it is to one upstream, and how it checks the upstream: settings (ADR 0020).

Every source (``PATIENTOVERBLIK_<SOURCE>__…``) and every appointment or plan endpoint (the same names
in its JSON object) takes, besides ``BASE_URL`` and the static bearer ``TOKEN``:

- OAuth2 client credentials: ``OAUTH_TOKEN_URL``, ``OAUTH_CLIENT_ID``, ``OAUTH_CLIENT_SECRET``,
  ``OAUTH_SCOPE``, ``OAUTH_AUTH_METHOD`` (``client_secret_basic``, ``client_secret_post`` or
  ``tls_client_auth``) and ``OAUTH_REFRESH_AHEAD_S`` (:mod:`sources.credentials`);
- mutual TLS: ``TLS_CA_BUNDLE`` (PEM of the CAs that verify the source, instead of the system's),
  ``TLS_CLIENT_CERT`` and ``TLS_CLIENT_KEY`` (PEM files of the client certificate and its key) and
  ``TLS_CLIENT_KEY_PASSWORD``.

Secrets (``TOKEN``, ``OAUTH_CLIENT_SECRET``, ``TLS_CLIENT_KEY_PASSWORD``) are ``SecretStr``: masked in
``repr``, ``check-config`` and validation errors. Files must exist and load when the settings are read,
so a wrong path stops the start naming the variable. URLs must be ``http(s)`` with a host and no user
info, query or fragment (:data:`UpstreamUrl`).
"""

from __future__ import annotations

import ssl
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, FilePath, SecretStr, model_validator

from sources.credentials import ClientAuthMethod, ClientCredentials, TlsFiles


def upstream_url(value: str) -> str:
    """``value`` if it is an absolute ``http(s)`` URL with a host and nothing a URL setting must not hold.

    Raises ``ValueError`` (the value is never echoed: it could hold a secret).
    """
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL with a host, e.g. https://cpr.example.dk")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL must not hold a user or password: use the TOKEN or OAUTH_* settings")
    if parts.query or parts.fragment or any(c.isspace() for c in value):
        raise ValueError("a URL must not hold a query string, a fragment or spaces")
    return value


UpstreamUrl = Annotated[str, AfterValidator(upstream_url)]
"""An ``http(s)`` URL setting, checked by :func:`upstream_url`."""


class UpstreamAuthSettings(BaseModel):
    """Credentials and TLS of one upstream (mixed into ``SourceSettings``)."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr | None = Field(default=None, description="Static bearer credential sent to the source.")
    oauth_token_url: UpstreamUrl | None = Field(
        default=None, description="OAuth2 token endpoint: the source gets client-credentials tokens from it."
    )
    oauth_client_id: str | None = Field(default=None, min_length=1, description="The gateway's client id there.")
    oauth_client_secret: SecretStr | None = Field(default=None, description="The client secret (not logged).")
    oauth_scope: str | None = Field(default=None, description="Space-separated scopes asked for.")
    oauth_auth_method: ClientAuthMethod = Field(
        default=ClientAuthMethod.CLIENT_SECRET_BASIC,
        description="client_secret_basic, client_secret_post or tls_client_auth (RFC 8705: the TLS certificate).",
    )
    oauth_refresh_ahead_s: float = Field(
        default=60.0, ge=0, description="Seconds before expiry at which a new token is fetched in the background."
    )
    tls_ca_bundle: FilePath | None = Field(
        default=None, description="PEM file of the CAs that verify the source (default: the system's)."
    )
    tls_client_cert: FilePath | None = Field(
        default=None, description="PEM file of the client certificate presented to the source (mutual TLS)."
    )
    tls_client_key: FilePath | None = Field(default=None, description="PEM file of the client certificate's key.")
    tls_client_key_password: SecretStr | None = Field(default=None, description="Password of the key file.")

    @model_validator(mode="after")
    def _consistent(self) -> UpstreamAuthSettings:
        oauth = (self.oauth_token_url, self.oauth_client_id)
        if any(v is not None for v in oauth) and not all(v is not None for v in oauth):
            raise ValueError("OAUTH_TOKEN_URL and OAUTH_CLIENT_ID go together")
        if self.oauth_token_url is not None:
            if self.token is not None:
                raise ValueError("TOKEN and OAUTH_TOKEN_URL exclude each other: a source has one credential")
            if self.oauth_auth_method is ClientAuthMethod.TLS_CLIENT_AUTH and self.tls_client_cert is None:
                raise ValueError("OAUTH_AUTH_METHOD=tls_client_auth needs TLS_CLIENT_CERT")
            if self.oauth_auth_method is not ClientAuthMethod.TLS_CLIENT_AUTH and self.oauth_client_secret is None:
                raise ValueError("OAUTH_CLIENT_SECRET is required for client_secret_basic and client_secret_post")
        if self.tls_client_key is not None and self.tls_client_cert is None:
            raise ValueError("TLS_CLIENT_KEY needs TLS_CLIENT_CERT")
        tls = self.tls_files()
        if tls is not None:
            try:
                tls.ssl_context()
            except (OSError, ssl.SSLError) as exc:
                problem = f"the TLS CA bundle, certificate or key could not be loaded ({type(exc).__name__})"
                raise ValueError(problem) from None
        return self

    def bearer_token(self) -> str | None:
        """The static bearer token, when one is configured."""
        return self.token.get_secret_value() if self.token is not None else None

    def credentials(self) -> ClientCredentials | None:
        """The OAuth2 client registration, when one is configured."""
        if self.oauth_token_url is None or self.oauth_client_id is None:
            return None
        secret = self.oauth_client_secret.get_secret_value() if self.oauth_client_secret else None
        return ClientCredentials(
            self.oauth_token_url,
            self.oauth_client_id,
            secret,
            self.oauth_scope,
            self.oauth_auth_method,
            self.oauth_refresh_ahead_s,
        )

    def tls_files(self) -> TlsFiles | None:
        """The TLS files, when any is configured."""
        if self.tls_ca_bundle is None and self.tls_client_cert is None:
            return None
        password = self.tls_client_key_password.get_secret_value() if self.tls_client_key_password else None
        return TlsFiles(
            str(self.tls_ca_bundle) if self.tls_ca_bundle else None,
            str(self.tls_client_cert) if self.tls_client_cert else None,
            str(self.tls_client_key) if self.tls_client_key else None,
            password,
        )
