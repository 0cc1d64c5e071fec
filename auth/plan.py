"""The access plan: every (patient, category) decision of one request, made before execution.

Resolvers only *read* the plan: :meth:`AccessPlan.require` returns the decision or raises the
coded error for a denial, and :meth:`AccessPlan.mark_returned` notes what actually went out, for the
access record. A patient or category the gate did not decide is denied (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from auth.actor import Actor, ActorKind
from auth.errors import AccessDenied, AccessUnavailable, AuthError, ConsentDenied, Unauthenticated
from sources.categories import DataCategory
from sources.clinical import NO_FILTER, ItemFilter


class Verdict(StrEnum):
    """The outcome for one patient or category."""

    ALLOW = "allow"
    DENY = "deny"


class Denial(StrEnum):
    """Why something was denied; each maps to one error code."""

    FORBIDDEN = "FORBIDDEN"
    CONSENT_DENIED = "CONSENT_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Decision:
    """One access decision, with the reason shown to the caller when it is a denial."""

    verdict: Verdict
    denial: Denial | None = None
    reason: str = ""
    source: str | None = None
    withheld: bool = False
    """Something was held back from this category (shown to professionals, never what)."""
    item_filter: ItemFilter = NO_FILTER
    """The blocks that narrow this category for the caller; resolvers push it down and apply it."""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def error(self) -> AuthError:
        """The error a resolver raises for this denial."""
        match self.denial:
            case Denial.CONSENT_DENIED:
                return ConsentDenied(self.reason)
            case Denial.UNAUTHENTICATED:
                return Unauthenticated(self.reason)
            case Denial.SOURCE_UNAVAILABLE:
                return AccessUnavailable(self.reason, self.source or "unknown")
            case _:
                return AccessDenied(self.reason)


ALLOW = Decision(Verdict.ALLOW)


def deny(denial: Denial, reason: str, source: str | None = None) -> Decision:
    """A denial with its reason."""
    return Decision(Verdict.DENY, denial, reason, source)


@dataclass
class PatientAccess:
    """What the caller may see of one patient, and what the request did with it."""

    cpr: str
    patient: Decision
    categories: dict[DataCategory, Decision]
    requested: frozenset[DataCategory]
    returned: set[DataCategory] = field(default_factory=set)

    def decision(self, category: DataCategory) -> Decision:
        if not self.patient.allowed:
            return self.patient
        return self.categories.get(category, deny(Denial.FORBIDDEN, "access to this data was not decided"))

    @property
    def denied(self) -> frozenset[DataCategory]:
        return frozenset(c for c in self.requested if not self.decision(c).allowed)

    @property
    def withheld(self) -> frozenset[DataCategory]:
        return frozenset(c for c in self.requested if self.decision(c).withheld)


@dataclass
class AccessPlan:
    """All decisions of one request."""

    actor: Actor
    patients: dict[str, PatientAccess] = field(default_factory=dict)

    def require_patient(self, cpr: str) -> None:
        """Raise the coded error unless the caller may see something of this patient."""
        access = self.patients.get(cpr)
        if access is None:
            raise AccessDenied("access to this patient was not decided")
        if not access.patient.allowed:
            raise access.patient.error()

    def require(self, cpr: str, category: DataCategory) -> Decision:
        """The decision for ``category`` of patient ``cpr``; raises the coded error on a denial."""
        access = self.patients.get(cpr)
        if access is None:
            raise AccessDenied("access to this patient was not decided")
        decision = access.decision(category)
        if not decision.allowed:
            raise decision.error()
        return decision

    def redact_protected(self, cpr: str) -> bool:
        """Whether a protected person's name and address must be replaced by placeholders.

        Only the citizen sees their own protected data; everyone else gets the placeholders the
        national CPR service gives callers that are not whitelisted authorities.
        """
        return not (self.actor.kind is ActorKind.CITIZEN and self.actor.cpr == cpr)

    def mark_returned(self, cpr: str, category: DataCategory) -> None:
        """Note that data of ``category`` was returned for ``cpr``."""
        access = self.patients.get(cpr)
        if access is not None:
            access.returned.add(category)
