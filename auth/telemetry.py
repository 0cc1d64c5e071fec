"""What access decisions tell operators: a span and metric samples, never whom they were about (ADR 0019).

- The span ``access decision`` (:func:`decision_span`) covers the loading of decision facts and the
  decision of one request (the consent, treatment-relation, CPR and power-of-attorney calls are its
  children). Attributes: ``patientoverblik.actor.kind``, ``patientoverblik.patients`` (how many),
  ``patientoverblik.categories.denied`` and ``patientoverblik.categories.withheld`` (how many
  patient-and-category decisions); never a CPR number, a name or an organisation.
- ``patientoverblik_access_decisions_total{verdict, reason}``: one sample per patient and requested
  category (:func:`observe_plan`). ``verdict`` is ``allow`` or ``deny``; ``reason`` is ``none`` or
  ``withheld`` (allowed, with something held back by blocks) for ``allow``, and for ``deny`` the
  denial in lower case (``forbidden``, ``consent_denied``, ``unauthenticated``, ``source_unavailable``,
  ``bad_override``) or ``client_not_allowed`` (outside the client's field allow-list).
- ``patientoverblik_access_overrides_total``: patients whose blocks a professional's override lifted.
- ``patientoverblik_access_log_write_duration_seconds{outcome}``: writing one request's access
  records and security events (:func:`timed_access_log_write`), ``outcome`` ``ok`` or ``failed``.
- ``patientoverblik_access_log_export_lease_held``: 1 while this process holds the Min Log export lease
  and so is the one that exports (:mod:`auth.export_lease`), else 0; summed over instances it is 1.
- ``patientoverblik_token_keys_usable`` and ``patientoverblik_token_keys_skipped{reason}``: the
  issuer's last fetched key set (:func:`observe_key_set`), ``reason`` a :class:`~auth.keys.SkipReason`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span
from prometheus_client import Counter, Gauge, Histogram

from auth.actor import Actor
from auth.keys import SkipReason, UsableKeys
from auth.plan import AccessPlan, Verdict

TRACER = trace.get_tracer("patientoverblik.auth")

EXPORT_LEASE_HELD = Gauge(
    "patientoverblik_access_log_export_lease_held",
    "1 while this process holds the Min Log export lease and exports, else 0.",
)
ACCESS_DECISIONS = Counter(
    "patientoverblik_access_decisions",
    "Access decisions, one per patient and requested data category, by verdict and reason.",
    ["verdict", "reason"],
)
ACCESS_OVERRIDES = Counter(
    "patientoverblik_access_overrides", "Patients whose blocks a professional's override (værdispring) lifted."
)
ACCESS_LOG_WRITE_SECONDS = Histogram(
    "patientoverblik_access_log_write_duration_seconds",
    "Writing one request's access records and security events, in seconds.",
    ["outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
TOKEN_KEYS_USABLE = Gauge("patientoverblik_token_keys_usable", "Usable keys in the token issuer's last key set.")
TOKEN_KEYS_SKIPPED = Gauge(
    "patientoverblik_token_keys_skipped", "Keys of the token issuer's last key set left out, by reason.", ["reason"]
)

CLIENT_NOT_ALLOWED = "client_not_allowed"


@contextmanager
def decision_span(actor: Actor) -> Iterator[Span]:
    """The span of one request's access decision; :func:`describe_plan` adds what was decided."""
    with TRACER.start_as_current_span("access decision", attributes={"patientoverblik.actor.kind": actor.kind}) as span:
        yield span


def describe_plan(span: Span, plan: AccessPlan) -> None:
    """Put how many patients were decided, and how many decisions denied or withheld, on ``span``."""
    denied = sum(len(access.denied) for access in plan.patients.values())
    withheld = sum(len(access.withheld) for access in plan.patients.values())
    span.set_attribute("patientoverblik.patients", len(plan.patients))
    span.set_attribute("patientoverblik.categories.denied", denied)
    span.set_attribute("patientoverblik.categories.withheld", withheld)


def observe_plan(plan: AccessPlan) -> None:
    """Count every decision of ``plan`` in ``patientoverblik_access_decisions_total`` (and overrides)."""
    for access in plan.patients.values():
        if access.override is not None:
            ACCESS_OVERRIDES.inc()
        for category in access.requested:
            decision = access.decision(category)
            if decision.verdict is Verdict.ALLOW:
                reason = "withheld" if decision.withheld else "none"
            else:
                reason = decision.denial.value.lower() if decision.denial is not None else "forbidden"
            ACCESS_DECISIONS.labels(decision.verdict.value, reason).inc()
        for _ in access.client_refused:
            ACCESS_DECISIONS.labels(Verdict.DENY.value, CLIENT_NOT_ALLOWED).inc()


@contextmanager
def timed_access_log_write() -> Iterator[None]:
    """Time the write of one request's records into ``patientoverblik_access_log_write_duration_seconds``."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        yield
        outcome = "ok"
    finally:
        ACCESS_LOG_WRITE_SECONDS.labels(outcome).observe(time.perf_counter() - started)


def observe_key_set(keys: UsableKeys) -> None:
    """Set the key set gauges from a fetched set (every reason, so a reason that went away reads 0)."""
    TOKEN_KEYS_USABLE.set(len(keys.keys))
    for reason in SkipReason:
        TOKEN_KEYS_SKIPPED.labels(reason.value).set(keys.skipped.get(reason, 0))
