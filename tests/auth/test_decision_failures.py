"""Access failing closed for a decision input names how the input failed, not only which (ADR 0024).

Every input of the decision (consent and the treatment relation for a professional, SOR when a block
covers sub-units, CPR and fuldmagt for a citizen acting for someone), each with every kind of failure: the
error the caller gets carries the code the gateway gives the same failure of a section, and the source.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from graphql import GraphQLError

from auth.actor import Actor
from auth.facts import load_facts
from auth.plan import Decision, PatientAccess
from auth.policy import decide
from gateway.errors import code_of
from sources.categories import SHARED_CATEGORIES, DataCategory
from sources.errors import (
    SourceCircuitOpen,
    SourceError,
    SourceIncomplete,
    SourceResponseInvalid,
    SourceSkipped,
    SourceTimeout,
    SourceUnavailable,
)
from tests.auth.test_facts import BIRTHE, CITIZEN, DOCTOR, OUH, TODAY, Sources, person, place

FAILURES: dict[str, tuple[type[SourceError], str]] = {
    "timeout": (SourceTimeout, "SOURCE_TIMEOUT"),
    "no_time_left": (SourceSkipped, "SOURCE_TIMEOUT"),
    "unavailable": (SourceUnavailable, "SOURCE_UNAVAILABLE"),
    "breaker_open": (SourceCircuitOpen, "SOURCE_UNAVAILABLE"),
    "invalid_response": (SourceResponseInvalid, "SOURCE_INVALID_RESPONSE"),
    "incomplete": (SourceIncomplete, "SOURCE_INCOMPLETE"),
}
INPUTS: dict[str, Actor] = {
    "treatment_relation": DOCTOR,
    "consent": DOCTOR,
    "sor": DOCTOR,
    "cpr": CITIZEN,
    "fuldmagt": CITIZEN,
}


class Failing(Sources):
    """The fake sources, with one of them failing as ``error`` says."""

    def __init__(self, source: str, error: SourceError) -> None:
        super().__init__(related={BIRTHE}, blocks={BIRTHE: [place(BIRTHE, OUH)]}, persons={BIRTHE: person(BIRTHE)})
        self._failing, self._error = source, error

    def _call(self, name: str, keys: Sequence[str]) -> None:
        super()._call(name, keys)
        if name == self._failing:
            raise self._error


def refusal(access: PatientAccess) -> Decision:
    """The decision that refuses: the patient's, or (a sub-unit block not applied) the shared categories'."""
    if not access.patient.allowed:
        return access.patient
    (decision,) = {access.decision(category) for category in SHARED_CATEGORIES}
    return decision


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("source", list(INPUTS))
async def test_a_failed_decision_input_reaches_the_caller_as_what_happened(source: str, failure: str) -> None:
    error_class, code = FAILURES[failure]
    actor = INPUTS[source]
    sources = Failing(source, error_class(source, "failed"))

    facts = (await load_facts(actor, [BIRTHE], sources.wired(), TODAY)).facts[BIRTHE]
    access = decide(actor, BIRTHE, set(DataCategory), facts, TODAY)
    error = refusal(access).error()

    graphql_error = GraphQLError("refused", original_error=error)
    assert (code_of(graphql_error).value, getattr(error, "source", None)) == (code, source)
