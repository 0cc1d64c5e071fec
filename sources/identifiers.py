"""Danish identifiers, validated the way the national infrastructure does.

A CPR number is ten digits whose first six are a real date (DDMMYY) in the century the seventh digit
gives. There is **no modulus-11 check**: numbers without it have been issued since 2007 and must be
accepted (domain.md §1.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import assert_never

CPR_PATTERN = re.compile(r"[0-9]{10}")
"""Ten digits: what adapters accept as a lookup key (the date is the edge's concern)."""


def distinct_cprs(cprs: Iterable[str]) -> list[str]:
    """``cprs`` without repeats, in order; raises ``ValueError`` for a key that is not ten digits."""
    wanted = list(dict.fromkeys(cprs))
    if not all(CPR_PATTERN.fullmatch(cpr) for cpr in wanted):
        raise ValueError("not a CPR number")
    return wanted


def cpr_birth_date(value: str) -> date | None:
    """The birth date a CPR number encodes, or ``None`` when it is not a valid CPR number."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return None
    day, month, yy, seventh = int(value[0:2]), int(value[2:4]), int(value[4:6]), int(value[6])
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


def is_cpr(value: str) -> bool:
    """Whether ``value`` is a well-formed CPR number (format and date; never modulus 11)."""
    return cpr_birth_date(value) is not None


class IdentifierKind(StrEnum):
    """The Danish identifier systems the gateway reads, each with one normal form."""

    CPR = "cpr"
    """Personnummer: ten digits (a hyphen after the sixth is dropped)."""
    SOR = "sor"
    """SOR-ID (Sundhedsvæsenets Organisationsregister): 5 to 18 digits, the first not 0 (an SCTID-style
    number: leading zeros are padding and are dropped, ``0378641000016007`` is ``378641000016007``)."""
    AUTHORIZATION_ID = "authorization_id"
    """Autorisations-ID (Styrelsen for Patientsikkerhed): five consonants and digits, upper case."""
    YDERNUMMER = "ydernummer"
    """Ydernummer (Yderregisteret): one to six digits, kept as given (no zero padding)."""


CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
"""The CPR number's identifier system (dk-core)."""
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
"""The SOR code's identifier system (dk-core)."""
AUTHORIZATION_SYSTEM = "https://autregweb.sst.dk"
"""The autorisations-ID's identifier system (dk-core)."""
YDERNUMMER_SYSTEM = "urn:oid:1.2.208.176.1.4"
"""The ydernummer's identifier system (dk-core)."""

_KIND_BY_SYSTEM = {
    CPR_SYSTEM: IdentifierKind.CPR,
    SOR_SYSTEM: IdentifierKind.SOR,
    AUTHORIZATION_SYSTEM: IdentifierKind.AUTHORIZATION_ID,
    YDERNUMMER_SYSTEM: IdentifierKind.YDERNUMMER,
}
_FORMS = {
    IdentifierKind.CPR: re.compile(r"[0-9]{10}"),
    IdentifierKind.SOR: re.compile(r"[1-9][0-9]{4,17}"),
    IdentifierKind.AUTHORIZATION_ID: re.compile(r"[0-9BCDFGHJKLMNPQRSTVWXZY]{5}"),
    IdentifierKind.YDERNUMMER: re.compile(r"[0-9]{1,6}"),
}
_CPR_WITH_HYPHEN = re.compile(r"([0-9]{6})-([0-9]{4})")
_MAX_LENGTH = 64
"""Longer values are not identifiers (bounded work on whatever an upstream sends)."""


def system_kind(system: str | None) -> IdentifierKind | None:
    """The kind of identifier ``system`` names, or ``None`` for a system the gateway does not know.

    Surrounding whitespace, the case of a ``urn:oid:`` prefix and a trailing ``/`` of an https system
    are not significant (``" URN:OID:1.2.208.176.1.1"`` is SOR); a bare OID is not a system.
    """
    if system is None:
        return None
    text = system.strip()
    if text[:8].lower() == "urn:oid:":
        text = "urn:oid:" + text[8:]
    elif text.lower().startswith("https://"):
        text = text.lower().rstrip("/")
    return _KIND_BY_SYSTEM.get(text)


def normalise(kind: IdentifierKind, value: str | None) -> str | None:
    """``value`` in the normal form of ``kind``, or ``None`` when it is not one with certainty.

    One rule for both sides of every comparison (a block and the caller, an item and a search, a
    filter and a pushdown, a SOR register lookup): surrounding whitespace never counts, an
    autorisations-ID is upper case, a CPR number may carry its hyphen (``140372-3705``), a SOR code
    loses its leading zeros (``0378641000016007`` is ``378641000016007``: SOR codes are numbers).
    Anything else that does not fit the form (a hyphen in a SOR code, non-ASCII digits, letters) is
    not guessed at: ``None``, which every caller treats as matching nothing it could trust.
    """
    if value is None or len(value) > _MAX_LENGTH:
        return None
    text = value.strip()
    match kind:
        case IdentifierKind.CPR:
            text = _CPR_WITH_HYPHEN.sub(r"\1\2", text)
        case IdentifierKind.AUTHORIZATION_ID:
            text = text.upper()
        case IdentifierKind.SOR:
            text = text.lstrip("0") if text.isascii() else text
        case IdentifierKind.YDERNUMMER:
            pass
        case _:
            assert_never(kind)
    return text if _FORMS[kind].fullmatch(text) else None


def normalise_authorization_id(value: str | None) -> str | None:
    """An autorisations-ID in its normal form (``" cbdj6 "`` → ``CBDJ6``), or ``None`` when it is not one."""
    return normalise(IdentifierKind.AUTHORIZATION_ID, value)


def normalise_sor(value: str | None) -> str | None:
    """A SOR code in its normal form (whitespace and leading zeros removed), or ``None`` when it is not one."""
    return normalise(IdentifierKind.SOR, value)
