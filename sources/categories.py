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
