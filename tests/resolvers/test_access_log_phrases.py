"""Min Log never tells the same data twice in one breath (a verifier found the registers twice).

The kind: two categories whose words name the same data (whether registrations exist, and their
content) both in one list. Checked over every combination of categories, outcome and accessor.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from resolvers.access_log import AccessLogEntry
from resolvers.access_log_words import category_words, words_for
from sources.audit import AccessorKind, AccessOutcome
from sources.categories import DataCategory
from tests.records import HANS, access_record

categories = st.frozensets(st.sampled_from(DataCategory)).map(lambda found: tuple(sorted(found)))
PHRASES = sorted({category_words(c) for c in DataCategory}, key=len, reverse=True)
REGISTERS = "testamente- og donorregistrene"
CLAUSE = re.compile(r", men |\. ")


def test_the_registers_and_their_content_read_as_the_content_once() -> None:
    both = words_for([DataCategory.REGISTERS, DataCategory.REGISTER_DETAILS, DataCategory.MASTER_CARD])

    assert both == ["dit stamkort", "dine registreringer i testamente- og donorregistrene"]
    assert words_for([DataCategory.REGISTERS]) == ["om du er registreret i testamente- og donorregistrene"]


@given(
    returned=categories,
    denied=categories,
    withheld=categories,
    outcome=st.sampled_from(AccessOutcome),
    kind=st.sampled_from(AccessorKind),
)
def test_no_clause_of_a_summary_names_the_same_data_twice(
    returned: tuple[DataCategory, ...],
    denied: tuple[DataCategory, ...],
    withheld: tuple[DataCategory, ...],
    outcome: AccessOutcome,
    kind: AccessorKind,
) -> None:
    record = access_record(
        actor_kind=kind,
        actor_id=HANS if kind is AccessorKind.CITIZEN else "CBDJ6",
        requested=tuple({*returned, *denied}),
        returned=returned,
        denied=denied,
        withheld=withheld,
        outcome=outcome,
    )

    entry = AccessLogEntry.from_record(record)

    assert len(entry.what) == len(set(entry.what))
    assert sum(REGISTERS in words for words in entry.what) <= 1
    for clause in CLAUSE.split(entry.summary):
        assert clause.count(REGISTERS) <= 1, entry.summary
        rest = clause
        for phrase in PHRASES:  # longest first, so "dit stamkort" inside "ændring af dit stamkort" is not counted twice
            assert rest.count(phrase) <= 1, entry.summary
            rest = rest.replace(phrase, "")
