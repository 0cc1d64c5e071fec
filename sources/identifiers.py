"""Danish identifiers, validated the way the national infrastructure does.

A CPR number is ten digits whose first six are a real date (DDMMYY) in the century the seventh digit
gives. There is **no modulus-11 check**: numbers without it have been issued since 2007 and must be
accepted (domain.md §1.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

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
