"""The will and donor registers: Behandlingstestamente, Livstestamente, Organdonor and Fravalg af
genoplivningsforsøg (SDS), behind one JSON "has registration" lookup.

Only *whether* the patient is registered crosses this boundary, never the content (domain.md §2,
rule 10). Wire format: ``docs/sources/registers.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.identifiers import distinct_cprs
from sources.models import RegistrationsRecord
from sources.payloads import StrictJsonModel

_Model = StrictJsonModel


class _Registration(_Model):
    registered: bool


class _Result(_Model):
    cpr: str = Field(pattern=r"^[0-9]{10}$")
    treatment_will: _Registration
    living_will: _Registration
    organ_donor: _Registration
    resuscitation_opt_out: _Registration


class _Answer(_Model):
    results: list[_Result]


class RegistersSource:
    """Whether patients have registrations in the will, donor and resuscitation registers."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def registrations_for(self, cprs: Sequence[str]) -> dict[str, RegistrationsRecord | None]:
        """Each asked CPR's registrations, ``None`` when the registers do not know it (one request)."""
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        payload = await self._client.get_json("/registrations", {"cpr": ",".join(wanted)})
        try:
            answer = _Answer.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("registrations failed validation") from exc
        found: dict[str, RegistrationsRecord] = {}
        for result in answer.results:
            found.setdefault(
                result.cpr,
                RegistrationsRecord(
                    cpr=result.cpr,
                    treatment_will=result.treatment_will.registered,
                    living_will=result.living_will.registered,
                    organ_donor=result.organ_donor.registered,
                    resuscitation_opt_out=result.resuscitation_opt_out.registered,
                ),
            )
        return {cpr: found.get(cpr) for cpr in wanted}
