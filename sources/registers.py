"""The will and donor registers: Behandlingstestamente, Livstestamente, Organdonor and Fravalg af
genoplivningsforsøg (SDS).

Two JSON lookups, both batched over many CPR numbers in one request:

- ``registrations_for``: only *whether* each registration exists (what professionals may see,
  domain.md §2 rule 10);
- ``details_for``: the content (dates, the situations a treatment will covers, the donor decision),
  a separate call so the content is never fetched for a caller who may not see it.

Each result is read on its own (:mod:`sources.keyed`): one that cannot be read gives only its own
patient an error, never the whole batch; one that names no patient, or a patient that was not asked,
gives every still unanswered patient an error (their answer may be the lost one).
Wire format: ``docs/sources/registers.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from sources.base import SourceClient
from sources.identifiers import distinct_cprs
from sources.keyed import Keyed, KeyedAnswer, key_of
from sources.models import (
    LivingWillRecord,
    Organ,
    OrganDonorDecision,
    OrganDonorRecord,
    RegisterDetailsRecord,
    RegistrationsRecord,
    ResuscitationOptOutRecord,
    TreatmentWillRecord,
    TreatmentWillSituation,
)
from sources.payloads import StrictJsonModel, member

_Model = StrictJsonModel
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LIMITED = frozenset({OrganDonorDecision.LIMITED, OrganDonorDecision.LIMITED_SUBJECT_TO_FAMILY})


def _iso_date(value: object) -> object:
    """``"2021-06-14"`` → a ``date``; anything else (timestamps, numbers, impossible dates) fails."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date")
    return date.fromisoformat(value)


_Date = Annotated[date, BeforeValidator(_iso_date)]
_Cpr = Annotated[str, Field(pattern=r"^[0-9]{10}$")]
_Situation = Literal["terminal", "severe_illness", "dementia"]
_Decision = Literal[
    "FULL", "FULL_SUBJECT_TO_FAMILY", "LIMITED", "LIMITED_SUBJECT_TO_FAMILY", "PROHIBITION", "UNDECIDED"
]
_Organ = Literal["heart", "lungs", "liver", "kidneys", "pancreas", "small_intestine", "corneas", "skin"]


class _Registration(_Model):
    registered: bool


class _Result(_Model):
    cpr: _Cpr
    treatment_will: _Registration
    living_will: _Registration
    organ_donor: _Registration
    resuscitation_opt_out: _Registration


class _Answer(_Model):
    results: list[Any]


class _Named(_Model):
    """What names the patient a result is about, read even when the rest of it is unusable."""

    cpr: _Cpr

    @property
    def key(self) -> str | None:
        return self.cpr


class _Dated(_Model):
    registered: _Date


class _TreatmentWill(_Dated):
    situations: list[_Situation] = Field(min_length=1)


class _OrganDonor(_Dated):
    decision: _Decision
    organs: list[_Organ] = Field(default_factory=list)

    @model_validator(mode="after")
    def _organs_only_when_limited(self) -> _OrganDonor:
        if (member(OrganDonorDecision, self.decision) in _LIMITED) != bool(self.organs):
            raise ValueError("organs are listed exactly for a limited permission")
        return self


class _Details(_Model):
    cpr: _Cpr
    treatment_will: _TreatmentWill | None
    living_will: _Dated | None
    organ_donor: _OrganDonor | None
    resuscitation_opt_out: _Dated | None


_Item = TypeVar("_Item", _Result, _Details)
_Record = TypeVar("_Record", RegistrationsRecord, RegisterDetailsRecord)


class RegistersSource:
    """The patients' registrations in the will, donor and resuscitation registers."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def registrations_for(self, cprs: Sequence[str]) -> Keyed[RegistrationsRecord]:
        """Each asked CPR's registrations, ``None`` when the registers do not know it (one request)."""
        return await self._read("/registrations", cprs, _Result, _registrations)

    async def details_for(self, cprs: Sequence[str]) -> Keyed[RegisterDetailsRecord]:
        """The content of each asked CPR's registrations, ``None`` when the registers do not know it.

        One request for all of them. Raises ``ValueError`` for a key that is not ten digits.
        """
        return await self._read("/registrations/details", cprs, _Details, _details)

    async def _read(
        self, path: str, cprs: Sequence[str], model: type[_Item], to_record: Callable[[_Item], _Record]
    ) -> Keyed[_Record]:
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        payload = await self._client.get_json(path, {"cpr": ",".join(wanted)})
        try:
            answer = _Answer.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("registrations failed validation") from exc
        found = KeyedAnswer[_Record](wanted)
        for item in answer.results:
            try:
                record = to_record(model.model_validate(item))
            except ValueError:  # pydantic's ValidationError, or a value the record's enum does not have
                found.fail(
                    key_of(_Named, item), self._client.invalid("a registration was left out: it failed validation")
                )
                continue
            if record.cpr in found:
                found.record(record.cpr, record)
            else:  # the search was misread: any unanswered patient's answer may be the lost one
                found.fail(None, self._client.invalid("a result about a patient that was not asked"))
        return found.answer()


E = TypeVar("E", bound=Enum)


def _members(kind: type[E], values: Sequence[str]) -> tuple[E, ...]:
    """Each distinct value as a member of ``kind`` (the wire model allows only its values; one it does not
    have would make the result unreadable: ``ValueError``, which leaves it out)."""
    found = tuple(member(kind, value) for value in dict.fromkeys(values))
    if any(value is None for value in found):
        raise ValueError("a value the register model does not know")
    return tuple(value for value in found if value is not None)


def _decision(value: str) -> OrganDonorDecision:
    decision = member(OrganDonorDecision, value)
    if decision is None:
        raise ValueError("a donor decision the register model does not know")
    return decision


def _registrations(result: _Result) -> RegistrationsRecord:
    return RegistrationsRecord(
        cpr=result.cpr,
        treatment_will=result.treatment_will.registered,
        living_will=result.living_will.registered,
        organ_donor=result.organ_donor.registered,
        resuscitation_opt_out=result.resuscitation_opt_out.registered,
    )


def _details(result: _Details) -> RegisterDetailsRecord:
    treatment = result.treatment_will
    donor = result.organ_donor
    return RegisterDetailsRecord(
        cpr=result.cpr,
        treatment_will=(
            TreatmentWillRecord(treatment.registered, _members(TreatmentWillSituation, treatment.situations))
            if treatment
            else None
        ),
        living_will=LivingWillRecord(result.living_will.registered) if result.living_will else None,
        organ_donor=(
            OrganDonorRecord(_decision(donor.decision), donor.registered, _members(Organ, donor.organs))
            if donor
            else None
        ),
        resuscitation_opt_out=(
            ResuscitationOptOutRecord(result.resuscitation_opt_out.registered) if result.resuscitation_opt_out else None
        ),
    )
