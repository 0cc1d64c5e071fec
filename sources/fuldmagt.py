"""Digital Fuldmagt (Digitaliseringsstyrelsen): who may act for whom, and in what.

A citizen (the giver, fuldmagtsgiver) can give another person (the holder, fuldmagtshaver) a digital
power of attorney for the sundhed.dk services that support it (domain.md §2, rule 3). This adapter
asks, in one request, which powers one holder has from each of several givers, or every power one
holder has. It returns what the
service *stores*, expired or future ones included: the gateway checks the validity against today.
Wire format: ``docs/sources/fuldmagt.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationError

from sources.base import SourceClient
from sources.identifiers import CPR_PATTERN, distinct_cprs
from sources.models import PeriodRecord, PowerOfAttorneyRecord
from sources.payloads import StrictJsonModel

POWER_SCOPES = frozenset({"overview", "master_card", "access_log", "blocks"})
"""The scopes a power can carry that the gateway understands; any other scope string is dropped."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    """``"2025-01-01"`` → a ``date``; anything else (timestamps, numbers, impossible dates) fails."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date")
    return date.fromisoformat(value)


_Date = Annotated[date, BeforeValidator(_iso_date)]
_Cpr = Annotated[str, Field(pattern=r"^[0-9]{10}$")]


class _Validity(StrictJsonModel):
    start: _Date | None = None
    end: _Date | None = None


class _Power(StrictJsonModel):
    id: str = Field(min_length=1)
    giver: _Cpr
    holder: _Cpr
    scopes: list[str]
    validity: _Validity


class _Answer(StrictJsonModel):
    powers_of_attorney: list[_Power]


class FuldmagtSource:
    """Digital powers of attorney (digitale fuldmagter) between citizens."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def powers_for(self, holder_cpr: str, giver_cprs: Sequence[str]) -> dict[str, list[PowerOfAttorneyRecord]]:
        """The powers ``holder_cpr`` holds from each asked giver, ``[]`` for a giver with none (one request).

        Every stored power is returned whatever its validity period; unknown scopes are dropped.
        Raises ``ValueError`` for a key that is not ten digits.
        """
        givers = distinct_cprs(giver_cprs)
        if not CPR_PATTERN.fullmatch(holder_cpr):
            raise ValueError("not a CPR number")
        if not givers:
            return {}
        payload = await self._client.get_json("/powers-of-attorney", {"holder": holder_cpr, "giver": ",".join(givers)})
        found: dict[str, list[PowerOfAttorneyRecord]] = {giver: [] for giver in givers}
        for power in self._powers(payload, holder_cpr, set(givers)):
            found[power.giver_cpr].append(power)
        return found

    async def powers_held_by(self, holder_cpr: str) -> list[PowerOfAttorneyRecord]:
        """Every power ``holder_cpr`` holds, from any giver, whatever its validity (one request).

        What ``me.actsFor`` lists for a representative (ADR 0017). Raises ``ValueError`` for a key that
        is not ten digits.
        """
        if not CPR_PATTERN.fullmatch(holder_cpr):
            raise ValueError("not a CPR number")
        payload = await self._client.get_json("/powers-of-attorney", {"holder": holder_cpr})
        return self._powers(payload, holder_cpr, None)

    def _powers(self, payload: object, holder_cpr: str, givers: set[str] | None) -> list[PowerOfAttorneyRecord]:
        """The powers in an answer, each once; all or nothing (``SourceResponseInvalid``)."""
        try:
            answer = _Answer.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("powers of attorney failed validation") from exc
        powers: list[PowerOfAttorneyRecord] = []
        seen: set[str] = set()
        for power in answer.powers_of_attorney:
            if power.holder != holder_cpr or (givers is not None and power.giver not in givers):
                raise self._client.invalid("a power of attorney is not between the asked persons")
            if power.id in seen:
                continue
            seen.add(power.id)
            powers.append(
                PowerOfAttorneyRecord(
                    id=power.id,
                    giver_cpr=power.giver,
                    holder_cpr=power.holder,
                    scopes=frozenset(power.scopes) & POWER_SCOPES,
                    validity=PeriodRecord(power.validity.start, power.validity.end),
                )
            )
        return powers
