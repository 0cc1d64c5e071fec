"""Settings of subscriptions over WebSocket (ADR 0023): ``PATIENTOVERBLIK_SUBSCRIPTIONS__*``.

| variable | default | meaning |
|---|---|---|
| ``SUBSCRIPTIONS__POLL_INTERVAL_S`` | ``5.0`` | seconds between two looks at the sources for one subscription |
| ``SUBSCRIPTIONS__OVERLAP_S`` | ``5.0`` | how far before the previous look each look asks (late commits, clock drift) |
| ``SUBSCRIPTIONS__MAX_PER_CONNECTION`` | ``5`` | subscriptions one connection may run at once |
| ``SUBSCRIPTIONS__MAX_PER_CALLER`` | ``10`` | subscriptions one caller may run at once in this process |
| ``SUBSCRIPTIONS__MAX_MESSAGE_BYTES`` | ``65536`` | largest WebSocket message accepted (close 1009 beyond) |
| ``SUBSCRIPTIONS__CONNECTION_INIT_TIMEOUT_S`` | ``10.0`` | time to send ``connection_init`` (close 4408 after) |
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionSettings(BaseModel):
    """How subscriptions look for changes, and the bounds on their work."""

    model_config = ConfigDict(extra="forbid")

    poll_interval_s: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds between two looks at the sources for one subscription; each look decides access again and "
            "asks every appointment endpoint what changed (FHIR _lastUpdated)."
        ),
    )
    overlap_s: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds before the previous look began that each look asks from, so a change committed late or a "
            "source clock a little behind is not missed; a change seen twice is sent once."
        ),
    )
    max_per_connection: int = Field(
        default=5, ge=1, description="Subscriptions one WebSocket connection may run at once: TOO_MANY_SUBSCRIPTIONS."
    )
    max_per_caller: int = Field(
        default=10,
        ge=1,
        description="Subscriptions one caller may run at once in this process, over all its connections.",
    )
    max_message_bytes: int = Field(
        default=65_536,
        ge=1_024,
        description="Largest WebSocket message accepted, in bytes; a larger one closes the connection (1009).",
    )
    connection_init_timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds a client has to send connection_init (close 4408 after)."
    )

    @property
    def connection_init_timeout(self) -> timedelta:
        return timedelta(seconds=self.connection_init_timeout_s)
