"""The override (værdispring) as GraphQL sees it: the grounds, and the argument a professional sends."""

from __future__ import annotations

import strawberry

from resolvers.vocabulary import OverrideGround


@strawberry.input(
    description=(
        "A professional's override of the patient's blocks (værdispring, consent override) for this request only. "
        "Only an authorised professional may send one (others get FORBIDDEN). When it lifts a block, the patient's "
        "access log shows it with its ground and reason; a refused override is never recorded."
    )
)
class OverrideInput:
    ground: OverrideGround = strawberry.field(description="The ground (grundlag) for overriding.")
    reason: str = strawberry.field(description="Why, in your words (begrundelse): 10 to 500 characters.")
