"""Settings of failing well (ADR 0024): ``PATIENTOVERBLIK_DEADLINE__*``, ``_ACCESS_LOG__*``, ``_READINESS__*``.

| variable | default | meaning |
|---|---|---|
| ``DEADLINE__REQUEST_S`` | ``3.0`` | one deadline for all upstream work of a GraphQL request, split across its waves |
| ``DEADLINE__MIN_CALL_S`` | ``0.2`` | the least time an upstream call gets; one that would get less never starts |
| ``ACCESS_LOG__ACQUIRE_TIMEOUT_S`` | ``0.25`` | the longest one access-log operation waits for its database |
| ``ACCESS_LOG__STATEMENT_TIMEOUT_S`` | ``1.0`` | PostgreSQL: an operation ends within the acquire timeout plus this |
| ``ACCESS_LOG__MIGRATE_TIMEOUT_S`` | ``300`` | PostgreSQL: the longest the migrations run at opening may take |
| ``ACCESS_LOG__CONNECT_TIMEOUT_S`` | ``2`` | a new PostgreSQL connection's longest wait (whole seconds, at least 2) |
| ``ACCESS_LOG__RECONNECT_TIMEOUT_S`` | ``1.0`` | how long the pool retries a lost connection in the background |
| ``ACCESS_LOG__MAX_LIFETIME_S`` | ``600`` | PostgreSQL connections are replaced after this long |
| ``ACCESS_LOG__MAX_CONNECTIONS`` | ``10`` | the PostgreSQL pool's size |
| ``ACCESS_LOG__MIGRATE`` | ``true`` | migrate the access log when it opens (else: ``patientoverblik migrate``) |
| ``READINESS__CACHE_S`` | ``1.0`` | how long ``/readyz`` reuses its probe of the access log |
| ``READINESS__REQUIRED_SOURCES`` | the decision inputs | sources whose open breaker makes the gateway not ready |
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auth.access_log_policy import MIN_CONNECT_TIMEOUT_S, AccessLogPolicy
from sources.deadline import WAVES

DECISION_SOURCES = ["consent", "treatment_relation", "cpr", "fuldmagt", "sor"]
"""The sources access is decided from: without one of them, access to patients it concerns fails closed."""


class DeadlineSettings(BaseModel):
    """The deadline of one request's upstream work (:mod:`sources.deadline`)."""

    model_config = ConfigDict(extra="forbid")

    request_s: float = Field(
        default=3.0,
        gt=0,
        description=(
            "Seconds all upstream calls of one GraphQL request may take together, from when its operation is read: "
            "the access decision's, then the sections'; a section cut by it is SOURCE_TIMEOUT naming its source."
        ),
    )
    min_call_s: float = Field(
        default=0.2,
        gt=0,
        description=(
            "The least time one upstream call gets: a call that would get less never starts (SOURCE_TIMEOUT), and "
            "each wave of calls keeps this much for every wave after it."
        ),
    )

    @model_validator(mode="after")
    def _every_wave_fits(self) -> DeadlineSettings:
        if self.request_s < WAVES * self.min_call_s:
            raise ValueError(f"request_s must leave each of the {WAVES} waves of calls at least min_call_s")
        return self


class AccessLogSettings(BaseModel):
    """How long the access-record store waits for its database (:class:`~auth.access_log.AccessLogPolicy`)."""

    model_config = ConfigDict(extra="forbid")

    acquire_timeout_s: float = Field(
        default=0.25,
        gt=0,
        description=(
            "The longest one access-log operation waits for its database (a pooled connection, a table or file lock): "
            "past it the request fails closed, ACCESS_LOG_UNAVAILABLE."
        ),
    )
    statement_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description=(
            "PostgreSQL: every access-log operation ends within the acquire timeout plus this, however silent the "
            "network (statements, commit, the pool's check of the connection, kept by the client); past it the "
            "connection is cut and discarded and the request fails closed, ACCESS_LOG_UNAVAILABLE."
        ),
    )
    migrate_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description=(
            "PostgreSQL: the longest the migrations run when the access log opens may take (a longer one: run "
            "`patientoverblik migrate` as a release step)."
        ),
    )
    connect_timeout_s: int = Field(
        default=MIN_CONNECT_TIMEOUT_S,
        ge=MIN_CONNECT_TIMEOUT_S,
        description="The longest a new PostgreSQL connection may take, in whole seconds (libpq's least is 2).",
    )
    reconnect_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description=(
            "How long the PostgreSQL pool retries a lost connection in the background before the next operation "
            "that needs one connects again at once."
        ),
    )
    max_lifetime_s: float = Field(default=600.0, gt=0, description="PostgreSQL connections are replaced after this.")
    max_connections: int = Field(default=10, ge=1, description="The PostgreSQL pool's size.")
    migrate: bool = Field(
        default=True,
        description=(
            "Run the access log's missing migrations when it opens (under a lock: processes starting together take "
            "turns). false: a database behind this version's schema fails closed until `patientoverblik migrate` ran."
        ),
    )

    def policy(self) -> AccessLogPolicy:
        """The store's policy: every setting here is one of its fields, by the same name."""
        return AccessLogPolicy(**self.model_dump())


class ReadinessSettings(BaseModel):
    """What ``/readyz`` checks (:mod:`gateway.readiness`)."""

    model_config = ConfigDict(extra="forbid")

    cache_s: float = Field(
        default=1.0,
        ge=0,
        description="Seconds a probe of the access log is reused: frequent readiness checks cost the database little.",
    )
    required_sources: list[str] = Field(
        default_factory=lambda: list(DECISION_SOURCES),
        description=(
            "Sources (or endpoints) whose open circuit breaker makes the gateway not ready: by default the decision "
            "inputs, without which access fails closed; their OAuth2 token endpoints count with them."
        ),
    )
