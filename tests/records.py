"""One access record (Min Log entry) for tests to vary: a doctor reading a patient's appointments.

Tests change only the fields their behaviour is about, so the rest of the record stays ordinary.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sandbox.personas import NEPHROLOGY_SOR
from sources.audit import AccessRecord

HANS = "1403723705"
"""Sandbox persona ``hans``."""

DOCTOR_READS_HANS = AccessRecord(
    id="rec-1",
    at=datetime(2026, 11, 21, 9, 15, tzinfo=UTC),
    request_id="req-1",
    activity="read",
    actor_kind="professional",
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
    requested=("appointments",),
    returned=("appointments",),
    denied=(),
    withheld=(),
    override_ground=None,
    override_reason=None,
    operation_hash="0" * 64,
    operation_name="Overview",
)
"""Sandbox doctor Mette Test Larsen (``CBDJ6``, nephrology at OUH) reads Hans's appointments."""


def access_record(**changes: object) -> AccessRecord:
    """:data:`DOCTOR_READS_HANS` with ``changes`` (field name to value) applied."""
    return dataclasses.replace(DOCTOR_READS_HANS, **changes)  # type: ignore[arg-type]
