"""The root of the graph: one patient's overview (with an optional override), and who the caller is."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Info, plan_of
from resolvers.directives import PatientScope
from resolvers.override import OverrideInput
from resolvers.patient import Patient
from resolvers.scalars import CPR
from resolvers.vocabulary import ActorKind


@strawberry.type(description="Who the gateway thinks the caller is, from the verified token.")
class Me:
    kind: ActorKind = strawberry.field(description="The kind of caller.")
    cpr: CPR | None = strawberry.field(description="A citizen's own CPR number.")
    authorization_id: str | None = strawberry.field(
        description="A professional's autorisations-ID (for an assistant: the responsible professional's)."
    )
    organisation_sor: str | None = strawberry.field(description="The SOR ID of a professional's organisation.")
    organisation_name: str | None = strawberry.field(description="The name of the professional's organisation.")
    profession: str | None = strawberry.field(description="The professional's profession (faggruppe), in Danish.")
    name: str | None = strawberry.field(description="The caller's name, as the token gives it.")
    assistant_name: str | None = strawberry.field(
        description="The assistant (medhjælp) acting for the professional, when one is."
    )
    client_id: str | None = strawberry.field(description="The client application the token was issued to.")


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
