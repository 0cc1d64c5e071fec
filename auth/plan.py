"""The access plan: every (patient, category) decision of one request, made before execution.

Resolvers only *read* the plan: :meth:`AccessPlan.require` returns the decision or raises the
coded error for a denial, and :meth:`AccessPlan.mark_returned` notes what actually went out, for the
access record. A patient or category the gate did not decide is denied (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

from auth.actor import Actor
from auth.errors import (
    AccessDenied,
    AccessUnavailable,
    AuthError,
    ConsentDenied,
    InvalidOverride,
    Unauthenticated,
)
from auth.security_events import SecurityEventKind
from sources.audit import AccessorKind, OverrideGround
from sources.categories import WRITE_CATEGORIES, DataCategory
from sources.clinical import NO_FILTER, ItemFilter
from sources.errors import FailureKind, SourceFailure

if TYPE_CHECKING:
    from auth.representations import Representations


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
    """A source the decision needs is down, answered with an error, or its breaker is open."""
    SOURCE_TIMEOUT = "SOURCE_TIMEOUT"
    """A source the decision needs did not answer in time (or the request's deadline left it none)."""
    SOURCE_INVALID_RESPONSE = "SOURCE_INVALID_RESPONSE"
    """A source the decision needs answered with data the gateway could not accept."""
    SOURCE_INCOMPLETE = "SOURCE_INCOMPLETE"
    """A source the decision needs answered only in part, so the decision cannot rest on it."""
    BAD_OVERRIDE = "BAD_OVERRIDE"


@dataclass(frozen=True, slots=True)
class Override:
    """A professional's override of the patient's blocks (værdispring) for this request."""

    ground: OverrideGround
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """One access decision, with the reason shown to the caller when it is a denial."""

    verdict: Verdict
    denial: Denial | None = None
    reason: str = ""
    source: str | None = None
    """The failed source (the ``SOURCE_*`` denials) or the malformed argument (``BAD_OVERRIDE``)."""
    withheld: bool = False
    """Blocks hid something of this category (shown to professionals, never what)."""
    item_filter: ItemFilter = NO_FILTER
    """The blocks that narrow this category for the caller; resolvers push it down and apply it."""
    overridable: bool = False
    """A professional may lift this denial with an override (værdispring)."""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def error(self) -> AuthError:
        """The error a resolver raises for this denial."""
        denial = self.denial
        match denial:
            case Denial.CONSENT_DENIED:
                return ConsentDenied(self.reason, overridable=self.overridable)
            case Denial.UNAUTHENTICATED:
                return Unauthenticated(self.reason)
            case Denial.SOURCE_UNAVAILABLE:
                return AccessUnavailable(self.reason, self.source or "unknown", FailureKind.UNAVAILABLE)
            case Denial.SOURCE_TIMEOUT:
                return AccessUnavailable(self.reason, self.source or "unknown", FailureKind.TIMEOUT)
            case Denial.SOURCE_INVALID_RESPONSE:
                return AccessUnavailable(self.reason, self.source or "unknown", FailureKind.INVALID_RESPONSE)
            case Denial.SOURCE_INCOMPLETE:
                return AccessUnavailable(self.reason, self.source or "unknown", FailureKind.INCOMPLETE)
            case Denial.BAD_OVERRIDE:
                return InvalidOverride(self.reason, self.source or "override")
            case Denial.FORBIDDEN | None:
                return AccessDenied(self.reason)
            case _:
                assert_never(denial)


ALLOW = Decision(Verdict.ALLOW)


def deny(denial: Denial, reason: str, source: str | None = None) -> Decision:
    """A denial with its reason."""
    return Decision(Verdict.DENY, denial, reason, source)


def source_failed(reason: str, failure: SourceFailure) -> Decision:
    """Access failing closed because a source the decision needs failed: named by how it failed."""
    return deny(denial_of(failure.kind), reason, failure.source)


def denial_of(kind: FailureKind) -> Denial:
    """The denial for a decision input that failed with ``kind`` (a read never fails as a rejected write:
    such an answer means the decision could not be made, as a source down)."""
    match kind:
        case FailureKind.TIMEOUT:
            return Denial.SOURCE_TIMEOUT
        case FailureKind.INVALID_RESPONSE:
            return Denial.SOURCE_INVALID_RESPONSE
        case FailureKind.INCOMPLETE:
            return Denial.SOURCE_INCOMPLETE
        case FailureKind.UNAVAILABLE | FailureKind.REJECTED | FailureKind.VERSION_CONFLICT:
            return Denial.SOURCE_UNAVAILABLE
        case _:
            assert_never(kind)


@dataclass
class PatientAccess:
    """What the caller may see of one patient, and what the request did with it."""

    cpr: str
    patient: Decision
    categories: dict[DataCategory, Decision]
    requested: frozenset[DataCategory]
    returned: set[DataCategory] = field(default_factory=set)
    attempted: set[DataCategory] = field(default_factory=set)
    """Write categories whose upstream write was started and is not known to have failed: a write
    attempted and not in ``returned`` is unconfirmed (the source may have made the change)."""
    accessor: AccessorKind | None = None
    """How the caller relates to this patient (themselves, a representative, a professional …);
    ``None`` only for a caller without a token, who leaves no access record."""
    override: Override | None = None
    """The professional's override for this patient, only when it lifted a block on something asked for."""
    client_refused: frozenset[DataCategory] = frozenset()
    """Categories asked for only under fields the client's registration does not allow (never resolved)."""
    requested_cpr: str | None = None
    """The number the caller asked for, when it was a changed number followed to ``cpr``."""
    sees_protected: bool = False
    """The caller may see this patient's protected name and address."""
    recorded: bool = True
    """Whether the attempt is a line in the patient's log; ``False`` for a refused override, which
    leaves only a security event (ADR 0007)."""

    def decision(self, category: DataCategory) -> Decision:
        if not self.patient.allowed:
            return self.patient
        return self.categories.get(category, deny(Denial.FORBIDDEN, "access to this data was not decided"))

    @property
    def denied(self) -> frozenset[DataCategory]:
        """Requested and refused: by the decision, or by the client's field allow-list."""
        return frozenset(c for c in self.requested if not self.decision(c).allowed) | self.client_refused

    @property
    def withheld(self) -> frozenset[DataCategory]:
        return frozenset(c for c in self.requested if self.decision(c).withheld)

    @property
    def may_write(self) -> bool:
        """Whether the request may change this patient's data (a write category asked for and allowed)."""
        return any(self.decision(c).allowed for c in self.requested & WRITE_CATEGORIES)

    @property
    def unconfirmed(self) -> frozenset[DataCategory]:
        """Writes started whose outcome is not known: the source may or may not have made them."""
        return frozenset(self.attempted - self.returned)


@dataclass
class AccessPlan:
    """All decisions of one request."""

    actor: Actor
    patients: dict[str, PatientAccess] = field(default_factory=dict)
    """Keyed by the patient's current CPR number."""
    aliases: dict[str, str] = field(default_factory=dict)
    """A changed number the caller asked for → the current number it was followed to."""
    denied_fields: frozenset[str] = frozenset()
    """Field coordinates (``Type.field``) the client's registration does not allow; never resolved."""
    security_events: dict[SecurityEventKind, int] = field(default_factory=dict)
    """Refused attempts of this request that the operator's security log gets: kind → patients named."""
    representations: Representations | None = None
    """Whom the caller may act for, loaded when the operation selects ``me.actsFor``."""

    def current(self, cpr: str) -> str:
        """The current number for ``cpr`` (itself unless it was changed and followed)."""
        return self.aliases.get(cpr, cpr)

    def require_patient(self, cpr: str) -> str:
        """Raise the coded error unless the caller may see something of this patient; the current number."""
        access = self.patients.get(self.current(cpr))
        if access is None:
            raise AccessDenied("access to this patient was not decided")
        if not access.patient.allowed:
            raise access.patient.error()
        return access.cpr

    def require(self, cpr: str, category: DataCategory) -> Decision:
        """The decision for ``category`` of patient ``cpr``; raises the coded error on a denial."""
        access = self.patients.get(self.current(cpr))
        if access is None:
            raise AccessDenied("access to this patient was not decided")
        decision = access.decision(category)
        if not decision.allowed:
            raise decision.error()
        return decision

    def redact_protected(self, cpr: str) -> bool:
        """Whether a protected person's name, address and whereabouts must be replaced by placeholders.

        The citizen, their fuldmagt holders and guardians, and callers whose client is registered as
        a whitelisted authority see them; everyone else (professionals, assistants, other systems,
        parents with custody) gets the placeholders the national CPR service gives callers that are
        not whitelisted authorities (ADR 0006, ADR 0012). Whether the patient *is* protected is CPR's
        to say; resolvers ask it only when this is true.
        """
        access = self.patients.get(self.current(cpr))
        return access is None or not access.sees_protected

    def redacted_patients(self) -> frozenset[str]:
        """The patients (current numbers) the caller may see something of and gets placeholders for:
        those whose protection a resolver may need to know, decided together in one CPR lookup."""
        return frozenset(
            cpr
            for cpr, access in self.patients.items()
            if not access.sees_protected and any(access.decision(c).allowed for c in access.requested)
        )

    def mark_returned(self, cpr: str, category: DataCategory) -> None:
        """Note that data of ``category`` was returned for ``cpr`` (for a write: the change was made)."""
        access = self.patients.get(self.current(cpr))
        if access is not None:
            access.returned.add(category)

    def mark_attempted(self, cpr: str, category: DataCategory, *, attempted: bool = True) -> None:
        """Note that a write of ``category`` for ``cpr`` goes upstream now (``attempted=False``: the
        source refused it, so nothing was changed)."""
        access = self.patients.get(self.current(cpr))
        if access is not None:
            if attempted:
                access.attempted.add(category)
            else:
                access.attempted.discard(category)
