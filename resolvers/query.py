"""The root of the graph: one patient's overview (with an optional override), and who the caller is."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import appointments
from resolvers.context import Info, plan_of
from resolvers.directives import PatientScope
from resolvers.federation import FederationQuery
from resolvers.me import Me
from resolvers.override import OverrideInput
from resolvers.paging import DEFAULT_PAGE, PAGE
from resolvers.patient import Patient
from resolvers.scalars import CPR

LIMITS_TEXT = f"""Every request is bounded. The defaults, each a setting, and the code a client gets over them \
(extensions.limit names the limit, extensions.maximum gives its value):
- request body: 65536 bytes (PATIENTOVERBLIK_MAX_REQUEST_BYTES): HTTP 413, REQUEST_TOO_LARGE, maxRequestBytes;
- tokens in the document, comments included: 1000 (MAX_TOKENS): QUERY_TOO_COMPLEX, extensions.limit maxTokens;
- operations in the document: 10 (MAX_OPERATIONS): QUERY_TOO_COMPLEX, maxOperations;
- depth of fields with selections: 12 (MAX_DEPTH; introspection not counted): QUERY_TOO_COMPLEX, maxDepth;
- aliases, a fragment counted where spread: 30 (MAX_ALIASES): QUERY_TOO_COMPLEX, maxAliases;
- static cost by the @cost and @listSize directives (IBM GraphQL Cost Directives): 5000 per operation (MAX_COST, \
or the client's registration): QUERY_TOO_COMPLEX, maxCost; `me {{ client {{ limits }} }}` tells the caller's own;
- rate: 600 requests and 100000 points of cost per 60 s per caller (RATE_LIMIT_REQUESTS, RATE_LIMIT_COST, \
RATE_LIMIT_WINDOW_S): RATE_LIMITED, HTTP 429 with Retry-After, requestsPerWindow or costPerWindow and \
extensions.retryAfter;
- arguments out of the bounds the schema declares (@constraint, @dateRange, @everyDay): BAD_USER_INPUT naming the \
argument, before anything runs; page sizes: `first` {PAGE.text()} on every connection (default {DEFAULT_PAGE}); every \
date 1900-01-01 to 2199-12-31; appointments span at most {appointments.MAX_SPAN_DAYS} days, and list empty days for \
at most {appointments.MAX_EMPTY_DAYS};
- representations in `_entities`: 30 an operation (MAX_REPRESENTATIONS): QUERY_TOO_COMPLEX, maxRepresentations."""
"""The limits as the schema describes them (a test checks the numbers against the code's defaults)."""


@strawberry.type(description=f"The patient overview: one graph over the national sources.\n\n{LIMITS_TEXT}")
class Query(FederationQuery):
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
            organisation_sor_id=actor.organisation_sor,
            organisation_name=actor.organisation_name,
            profession=actor.profession,
            name=actor.name,
            assistant_name=actor.assistant.name if actor.assistant else None,
            client_id=actor.client_id,
        )
