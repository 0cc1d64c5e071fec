"""The categories of patient data the sources hold.

Access is decided per (patient, category): resolvers tag each GraphQL field with the category it
reveals, and the consent gate in ``auth/`` decides each category before execution. The vocabulary
lives here, at the bottom of the layers, so both can use it without importing each other.
"""

from __future__ import annotations

from enum import StrEnum


class DataCategory(StrEnum):
    """A kind of patient data, the unit of every access decision."""

    PERSON = "person"
    """Name, address, status and relations from CPR."""
    GP = "gp"
    """The patient's own general practitioner and health-insurance group."""
    MASTER_CARD = "master_card"
    """The Fælles Stamkort: phone, temporary address, dentist, language, relatives."""
    REGISTERS = "registers"
    """Treatment will, living will, organ donor and resuscitation opt-out registrations."""
    APPOINTMENTS = "appointments"
    """Appointments (aftaler) from hospitals, municipalities and general practice."""
    PLANS = "plans"
    """Plans (forløbsplaner, kommunale og hospitalsplaner) and their interventions (indsatser)."""
    GOALS = "goals"
    """Goals (mål): life goals, disease-specific and functional goals, and sub-goals."""
    DIAGNOSES = "diagnoses"
    """Diagnoses and problems (Condition) in SKS, ICPC2, FSIII or SNOMED CT."""
    REGISTER_DETAILS = "register_details"
    """The content of will, donor and resuscitation registrations (not only whether they exist)."""
    ACCESS_LOG = "access_log"
    """The patient's access log (Min Log): who looked at which data, when, and why."""
    BLOCKS = "blocks"
    """The patient's own blocks (Min Spærring) on professionals, places and data periods."""
    MASTER_CARD_EDIT = "master_card_edit"
    """Changing the Fælles Stamkort on the patient's behalf (a write)."""
    BLOCKS_EDIT = "blocks_edit"
    """Creating and revoking the patient's blocks (a write)."""


SHARED_CATEGORIES = frozenset(
    {DataCategory.APPOINTMENTS, DataCategory.PLANS, DataCategory.GOALS, DataCategory.DIAGNOSES}
)
"""The shared health data (DDS-like) that Min Spærring blocks on places and data periods narrow."""

MASTER_DATA_CATEGORIES = frozenset(
    {
        DataCategory.PERSON,
        DataCategory.GP,
        DataCategory.MASTER_CARD,
        DataCategory.REGISTERS,
        DataCategory.MASTER_CARD_EDIT,
    }
)
"""The stamoplysninger of the Fælles Stamkort: not blockable since 1 December 2024 (BEK 193/2024)."""

WRITE_CATEGORIES = frozenset({DataCategory.MASTER_CARD_EDIT, DataCategory.BLOCKS_EDIT})
"""Categories that change data; an access record with any of them is a write."""
