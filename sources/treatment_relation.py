"""BRS (Behandlingsrelationsservice, SDS on NSP): current treatment relations.

Asks, for many (patient, professional, place) triples in one request, whether the professional has a
current treatment relation (aktuel behandlingsrelation) to the patient, and of which kinds (LPR3,
SSR, DNHF…). Wire format: ``docs/sources/treatment_relation.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.identifiers import CPR_PATTERN
from sources.models import RelationQuery, TreatmentRelationRecord
from sources.payloads import StrictJsonModel

_AUTHORIZATION = re.compile(r"[0-9A-Za-z]{5}")


_Model = StrictJsonModel


class _Result(_Model):
    patient: str
    authorization_id: str
    organisation_sor: str | None
    has_relation: bool
    kinds: list[str] = Field(default_factory=list)


class _Answer(_Model):
    results: list[_Result]


class TreatmentRelationSource:
    """Whether professionals have a current treatment relation to patients."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def relations_for(self, queries: Sequence[RelationQuery]) -> dict[RelationQuery, TreatmentRelationRecord]:
        """The answer to every query (duplicates asked once), in one request."""
        wanted = list(dict.fromkeys(queries))
        if not wanted:
            return {}
        if not all(CPR_PATTERN.fullmatch(q.cpr) and _AUTHORIZATION.fullmatch(q.authorization_id) for q in wanted):
            raise ValueError("not a CPR number or authorisation ID")
        body = {
            "queries": [
                {"patient": q.cpr, "authorizationId": q.authorization_id, "organisationSor": q.organisation_sor}
                for q in wanted
            ]
        }
        # A search sent as POST (the queries hold CPR numbers, never a URL's): a read, sent again when its
        # kept-alive connection closed before any answer.
        payload, _ = await self._client.send_json("POST", "/brs/relations", body, replayable=True)
        try:
            answer = _Answer.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("relations failed validation") from exc
        answers: dict[RelationQuery, TreatmentRelationRecord] = {}
        for result in answer.results:
            query = RelationQuery(result.patient, result.authorization_id, result.organisation_sor)
            answers.setdefault(query, TreatmentRelationRecord(query, result.has_relation, tuple(result.kinds)))
        missing = [q for q in wanted if q not in answers]
        if missing:
            raise self._client.invalid("relations answer lacks queries")
        return {q: answers[q] for q in wanted}
