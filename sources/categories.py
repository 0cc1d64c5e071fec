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


SHARED_CATEGORIES = frozenset(
    {DataCategory.APPOINTMENTS, DataCategory.PLANS, DataCategory.GOALS, DataCategory.DIAGNOSES}
)
"""The shared health data (DDS-like) that Min Spærring blocks on places and data periods narrow."""
