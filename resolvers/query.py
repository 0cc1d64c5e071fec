"""The root of the graph: one patient's overview (with an optional override), and who the caller is."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Info, plan_of
from resolvers.directives import PatientScope
from resolvers.me import Me
from resolvers.override import OverrideInput
from resolvers.patient import Patient
from resolvers.scalars import CPR


@strawberry.type(description="The patient overview: one graph over the national sources.")
class Query:
    @strawberry.field(
        description=(
            "One patient's overview. Access is decided for the whole request before anything is resolved; "
            "a denied patient is null with a FORBIDDEN, CONSENT_DENIED or UNAUTHENTICATED error. A changed "
            "CPR number (status 60) is followed to the current one: `cpr` then shows the current number."
        ),
        directives=[PatientScope(patient_argument="cpr", override_argument="override")],
    )
    def patient(
        self,
        info: Info,
        cpr: Annotated[CPR, strawberry.argument(description="The patient's CPR number.")],
        override: Annotated[
            OverrideInput | None,
            strawberry.argument(description="Override the patient's blocks (professionals only, recorded)."),
        ] = None,
    ) -> Patient | None:
        current = plan_of(info).require_patient(cpr)
        return Patient(cpr=CPR(current))

    @strawberry.field(description="Who the gateway thinks the caller is.")
    def me(self, info: Info) -> Me:
        actor = info.context.actor
        return Me(
            kind=actor.kind,
            cpr=CPR(actor.cpr) if actor.cpr else None,
            authorization_id=actor.authorization_id,
            organisation_sor=actor.organisation_sor,
            organisation_name=actor.organisation_name,
            profession=actor.profession,
            name=actor.name,
            assistant_name=actor.assistant.name if actor.assistant else None,
            client_id=actor.client_id,
        )
