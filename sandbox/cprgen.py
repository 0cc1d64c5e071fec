"""Synthetic CPR numbers that cannot collide with real people.

Generated numbers use a real calendar date, a 7th digit consistent with the century table, a last
digit whose parity matches the sex, and **deliberately fail modulus 11**; they avoid 1 January,
the date most real numbers without modulus 11 carry (domain.md §3).
"""

from __future__ import annotations

import random
from datetime import date

_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


def passes_mod11(cpr: str) -> bool:
    """Whether the ten digits pass the old modulus-11 check."""
    return sum(int(d) * w for d, w in zip(cpr, _WEIGHTS, strict=True)) % 11 == 0


def make_cpr(birth: date, male: bool, rng: random.Random) -> str:
    """A CPR number for ``birth`` and sex that fails modulus 11."""
    if birth.month == 1 and birth.day == 1:
        raise ValueError("synthetic persons are never born on 1 January")
    prefix = birth.strftime("%d%m%y")
    for _ in range(1000):
        seventh = rng.randint(0, 3) if birth.year < 2000 else 4
        middle = f"{rng.randint(0, 99):02d}"
        last = rng.randrange(1, 10, 2) if male else rng.randrange(0, 10, 2)
        cpr = f"{prefix}{seventh}{middle}{last}"
        if not passes_mod11(cpr):
            return cpr
    raise RuntimeError("could not make a CPR number")  # pragma: no cover


def birth_date_of(cpr: str) -> date:
    """The birth date a CPR number encodes (century from the 7th digit)."""
    day, month, yy, seventh = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    return date(century + yy, month, day)
