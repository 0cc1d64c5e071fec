"""The override (værdispring) as GraphQL sees it: the grounds, and the argument a professional sends."""

from __future__ import annotations

import strawberry

from resolvers.vocabulary import OverrideGround


@strawberry.input(
    description=(
        "A professional's override of the patient's blocks (værdispring, consent override) for this request only. "
        "Recorded prominently in the patient's access log with its ground and reason."
    )
)
class OverrideInput:
    ground: OverrideGround = strawberry.field(description="The ground (grundlag) for overriding.")
    reason: str = strawberry.field(description="Why, in your words (begrundelse): 10 to 500 characters.")
