"""Identifiers the gateway makes itself: never shaped like a CPR number.

Logs, traces and error bodies mask every CPR-shaped string (:data:`CPR_SHAPED`: ten digits, with or
without a dash after the sixth, not part of a longer number), so an id of the gateway's own that happened
to hold such a run would be masked where an operator needs it to correlate — about 3 in 100 random hex
ids do. Every id made here is drawn again until it holds none (non-negotiable 5 stays one rule).
"""

from __future__ import annotations

import re
import uuid
from typing import Final

CPR_SHAPED: Final = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])")
"""Ten digits, with or without a dash after the sixth, not part of a longer number."""


def new_hex_id() -> str:
    """A random id of 32 lowercase hex digits (a UUID4's) without a CPR-shaped run of digits."""
    while CPR_SHAPED.search(candidate := uuid.uuid4().hex):
        pass
    return candidate


def new_uuid() -> str:
    """A random UUID4 in its canonical dashed form without a CPR-shaped run of digits."""
    while CPR_SHAPED.search(candidate := str(uuid.uuid4())):
        pass
    return candidate
