"""Configuration from the environment (pydantic-settings).

Every variable starts with ``PATIENTOVERBLIK_``; nested values use ``__``, e.g.
``PATIENTOVERBLIK_CPR__BASE_URL=https://cpr.example/`` or ``PATIENTOVERBLIK_CPR__TIMEOUT_S=1.5``.
The defaults point at the sandbox on 127.0.0.1 as ``make run`` starts it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sources.base import SourceConfig
from sources.registry import SourceConfigs

SANDBOX_HOST = "127.0.0.1"
SANDBOX_PORTS = {
    "issuer": 8100,
    "cpr": 8101,
    "yderregister": 8102,
    "stamkort": 8103,
    "registers": 8104,
    "consent": 8105,
    "treatment_relation": 8106,
}


def sandbox_url(name: str) -> str:
    """The URL of a sandbox service on its default port."""
    return f"http://{SANDBOX_HOST}:{SANDBOX_PORTS[name]}"


class SourceSettings(BaseModel):
    """How to reach one upstream source."""

    base_url: str
    timeout_s: float = Field(default=2.0, gt=0, description="Per-request timeout in seconds.")
    retries: int = Field(default=1, ge=0, le=3, description="Retries for idempotent GETs.")
    token: str | None = Field(default=None, description="Bearer credential sent to the source.")

    def config(self, name: str) -> SourceConfig:
        return SourceConfig(name, self.base_url, self.timeout_s, self.retries, self.token)


class Settings(BaseSettings):
    """The gateway's settings."""

    model_config = SettingsConfigDict(env_prefix="PATIENTOVERBLIK_", env_nested_delimiter="__", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///var/access.db"
    token_issuer: str = Field(default_factory=lambda: sandbox_url("issuer"))
    token_jwks_url: str = Field(default_factory=lambda: sandbox_url("issuer") + "/.well-known/jwks.json")
    token_audience: str = "patientoverblik"  # noqa: S105 - an audience name, not a secret
    token_algorithms: tuple[str, ...] = ("RS256", "ES256")
    graphiql: bool = True
    max_depth: int = 12
    max_aliases: int = 30

    cpr: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("cpr")))
    yderregister: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("yderregister")))
    stamkort: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("stamkort")))
    registers: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("registers")))
    consent: SourceSettings = Field(default_factory=lambda: SourceSettings(base_url=sandbox_url("consent")))
    treatment_relation: SourceSettings = Field(
        default_factory=lambda: SourceSettings(base_url=sandbox_url("treatment_relation"))
    )

    def source_configs(self) -> SourceConfigs:
        """The adapters' configuration, including the issuer's JWKS endpoint."""
        jwks = urlsplit(self.token_jwks_url)
        return SourceConfigs(
            cpr=self.cpr.config("cpr"),
            yderregister=self.yderregister.config("yderregister"),
            stamkort=self.stamkort.config("stamkort"),
            registers=self.registers.config("registers"),
            consent=self.consent.config("consent"),
            treatment_relation=self.treatment_relation.config("treatment_relation"),
            jwks=SourceConfig("token_issuer", f"{jwks.scheme}://{jwks.netloc}", timeout_s=2.0, retries=1),
            jwks_path=jwks.path or "/",
        )
