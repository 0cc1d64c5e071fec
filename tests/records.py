"""One access record (Min Log entry) for tests to vary: a doctor reading a patient's appointments.

Tests change only the fields their behaviour is about, so the rest of the record stays ordinary.
:func:`access_record` takes the closed fields as their plain values too ("citizen", ("person",)),
and derives the outcome from the lists unless it is given.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from sandbox.personas import NEPHROLOGY_SOR
from sources.audit import AccessActivity, AccessorKind, AccessOutcome, AccessRecord, OverrideGround
from sources.categories import DataCategory

HANS = "1403723705"
"""Sandbox persona ``hans``."""

DOCTOR_READS_HANS = AccessRecord(
    id="rec-1",
    at=datetime(2026, 11, 21, 9, 15, tzinfo=UTC),
    request_id="req-1",
    activity=AccessActivity.READ,
    outcome=AccessOutcome.ACCESSED,
    actor_kind=AccessorKind.PROFESSIONAL,
    actor_id="CBDJ6",
    actor_name="Mette Test Larsen",
    profession="læge",
    organisation_sor=NEPHROLOGY_SOR,
    organisation_name="Nefrologisk Afdeling Y, OUH",
    client_id=None,
    acting_for_id=None,
    acting_for_name=None,
    patient_cpr=HANS,
    requested_cpr=None,
    requested=(DataCategory.APPOINTMENTS,),
    returned=(DataCategory.APPOINTMENTS,),
    denied=(),
    withheld=(),
    override_ground=None,
    override_reason=None,
    operation_hash="0" * 64,
    operation_name="Overview",
)
"""Sandbox doctor Mette Test Larsen (``CBDJ6``, nephrology at OUH) reads Hans's appointments."""


def access_record(**changes: Any) -> AccessRecord:
    """:data:`DOCTOR_READS_HANS` with ``changes`` (field name to value, plain values allowed) applied."""
    return changed(DOCTOR_READS_HANS, **changes)


def changed(base: AccessRecord, **changes: Any) -> AccessRecord:
    """``base`` with ``changes`` (field name to value, plain values allowed) applied."""
    typed: dict[str, Any] = dict(changes)
    for name, kind in (("activity", AccessActivity), ("outcome", AccessOutcome), ("actor_kind", AccessorKind)):
        if name in typed:
            typed[name] = kind(typed[name])
    for name in ("requested", "returned", "denied", "withheld"):
        if name in typed:
            typed[name] = tuple(DataCategory(c) for c in typed[name])
    if typed.get("override_ground") is not None:
        typed["override_ground"] = OverrideGround(typed["override_ground"])
    if "outcome" not in typed and ({"returned", "denied"} & typed.keys()):
        returned = typed.get("returned", base.returned)
        denied = typed.get("denied", base.denied)
        typed["outcome"] = (
            AccessOutcome.ACCESSED if returned else AccessOutcome.REFUSED if denied else AccessOutcome.NOTHING
        )
    return dataclasses.replace(base, **typed)
