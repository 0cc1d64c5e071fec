"""What the GraphQL fuzzer sends: the callers, and operations generated from the schema.

Operations come from ``hypothesis-graphql``: valid queries and mutations over every field of
``Query`` and ``Mutation`` (arguments included, so ``override`` and the mutation inputs are mixed
in), and invalid ones with one schema violation each. The schema's own scalars get strategies here:

- ``CPR``: four in ten a patient the caller has a ground to ask for (:func:`patients_of`), three
  another persona (``docs/sandbox.md``), two a valid-looking number (a real date and four digits),
  one a malformed string;
- ``Date``, ``DateTime``: mostly everyday dates near today, else any date from year 1 to 9999 (the
  extremes included), one in ten a malformed string;
- ``String``: mostly long enough to be an override's reason;
- ``_Any`` (Federation's representations for ``_entities``): mostly a ``Patient`` keyed as the gateway
  keys the caller's patients and other personas, else a key that does not open (made up, a CPR number),
  another type, extra fields, or no object at all (ADR 0022).

Half the operations are valid queries, a quarter valid mutations, a quarter invalid. Validity is
about the schema: the generated strings (a paging cursor, an override's reason) are mostly refused.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar, assert_never

import graphql
import hypothesis_graphql
from hypothesis import strategies as st

from sandbox.personas import ASSISTANT_ID
from tests.e2e.conftest import BLOCKED_DOCTOR, BLOCKS_DOCTOR, DOCTOR_WITH_RELATIONS, HANS, KEYS, KOL, PROTECTED

T = TypeVar("T")

REPRESENTATIVE = "1709683160"
"""Lise Test Jensen: a digital power of attorney from Hans with every scope."""
PARENT = "1908830938"
"""Sofie Test Nielsen: custody of Ida (under 15) and Oscar (15)."""
VENDOR = "epj-odense"
UNREGISTERED_VENDOR = "epj-unregistered"
"""A client ID the issuer signs for but the gateway has no registration for."""
PETER = "0907644021"
CHILDREN = ("1006154216", "0204114575")
"""Ida (under 15) and Oscar (15): Sofie's children."""


class Caller(StrEnum):
    """Who sends the fuzzed requests; every actor kind the gateway knows, and no token at all."""

    ANONYMOUS = "anonymous"
    CITIZEN = "citizen"
    REPRESENTATIVE = "representative"
    PARENT = "parent"
    PROFESSIONAL = "professional"
    BLOCKED_PROFESSIONAL = "blocked-professional"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    UNREGISTERED_SYSTEM = "unregistered-system"


def claims_of(caller: Caller) -> dict[str, Any] | None:
    """The demo issuer's token request for ``caller``; ``None``: no token is sent."""
    match caller:
        case Caller.ANONYMOUS:
            return None
        case Caller.CITIZEN:
            return {"actor_kind": "citizen", "cpr": HANS}
        case Caller.REPRESENTATIVE:
            return {"actor_kind": "citizen", "cpr": REPRESENTATIVE}
        case Caller.PARENT:
            return {"actor_kind": "citizen", "cpr": PARENT}
        case Caller.PROFESSIONAL:
            return {"actor_kind": "professional", "authorization_id": DOCTOR_WITH_RELATIONS}
        case Caller.BLOCKED_PROFESSIONAL:
            return {"actor_kind": "professional", "authorization_id": BLOCKED_DOCTOR}
        case Caller.ASSISTANT:
            return {"actor_kind": "assistant", "assistant_id": ASSISTANT_ID, "authorization_id": DOCTOR_WITH_RELATIONS}
        case Caller.SYSTEM:
            return {"actor_kind": "system", "client_id": VENDOR, "authorization_id": DOCTOR_WITH_RELATIONS}
        case Caller.UNREGISTERED_SYSTEM:
            return {"actor_kind": "system", "client_id": UNREGISTERED_VENDOR, "authorization_id": DOCTOR_WITH_RELATIONS}
        case _:
            assert_never(caller)


def patients_of(caller: Caller) -> tuple[str, ...]:
    """The patients ``caller`` has a ground to ask for (``docs/sandbox.md``), asked for most often."""
    match caller:
        case Caller.ANONYMOUS | Caller.CITIZEN | Caller.REPRESENTATIVE | Caller.UNREGISTERED_SYSTEM:
            return (HANS,)
        case Caller.PARENT:
            return CHILDREN
        case Caller.PROFESSIONAL | Caller.ASSISTANT | Caller.SYSTEM:
            return (HANS, KOL, PROTECTED, PETER)
        case Caller.BLOCKED_PROFESSIONAL:
            return (BLOCKS_DOCTOR,)
        case _:
            assert_never(caller)


def _string_node(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


def _weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of ``choices``, each drawn in proportion to its weight (the first is what shrinking keeps)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


_MALFORMED = st.one_of(
    st.sampled_from(["", "140372-3705", "14037237050", "abcdefghij", "9999-12-31T25:00", "-1", "0"]),
    st.text(alphabet=string.printable, max_size=12),
)


def cpr_numbers(caller: Caller, personas: Sequence[str]) -> st.SearchStrategy[str]:
    """CPR arguments: the caller's patients, other personas, valid-looking numbers (DDMMYY and four
    digits), malformed strings."""
    date_shaped = st.builds(
        lambda day, serial: f"{day:%d%m%y}{serial:04d}",
        st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
        st.integers(0, 9999),
    )
    return _weighted(
        (4, st.sampled_from(patients_of(caller))),
        (3, st.sampled_from(sorted(personas))),
        (2, date_shaped),
        (1, _MALFORMED),
    )


def _representation(typename: str, key: graphql.ValueNode, **extra: graphql.ValueNode) -> graphql.ObjectValueNode:
    fields = {"__typename": _string_node(typename), "id": key, **extra}
    return graphql.ObjectValueNode(
        fields=tuple(graphql.ObjectFieldNode(name=graphql.NameNode(value=n), value=v) for n, v in fields.items())
    )


def representations(caller: Caller, personas: Sequence[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """``_Any`` values for ``_entities``: the caller's patients and other personas keyed as the gateway keys
    them, keys that do not open, other types, extra fields, and values that are no object."""
    keyed = _weighted((4, st.sampled_from(patients_of(caller))), (3, st.sampled_from(sorted(personas))))
    good = keyed.map(lambda cpr: _representation("Patient", _string_node(KEYS.key_of(cpr))))
    made_up = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=35, max_size=35)
    not_ours = st.one_of(made_up, cpr_numbers(caller, personas)).map(
        lambda key: _representation("Patient", _string_node(key))
    )
    odd: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        keyed.map(lambda cpr: _representation("Person", _string_node(KEYS.key_of(cpr)))),
        keyed.map(lambda cpr: _representation("Patient", _string_node(KEYS.key_of(cpr)), cpr=_string_node(cpr))),
        st.integers(-5, 5).map(lambda n: _representation("Patient", graphql.IntValueNode(value=str(n)))),
        _MALFORMED.map(_string_node),
        st.just(graphql.NullValueNode()),
    )
    return _weighted((6, good), (2, not_ours), (2, odd))


def dates() -> st.SearchStrategy[str]:
    """``Date`` arguments: near today, anywhere in years 1-9999 (the extremes included), or malformed."""
    today = datetime.now(UTC).date()
    near = st.dates(min_value=today - timedelta(days=3650), max_value=today + timedelta(days=3650))
    extreme = st.sampled_from([date.min, date.max, date(1, 1, 2), date(9999, 12, 30)])
    anywhere = st.one_of(st.dates(), extreme).map(date.isoformat)
    return _weighted((6, near.map(date.isoformat)), (3, anywhere), (1, _MALFORMED))


def datetimes() -> st.SearchStrategy[str]:
    """``DateTime`` arguments: any aware moment in years 1-9999, naive ones, or malformed strings."""
    aware = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
    naive = st.datetimes().map(datetime.isoformat)
    return _weighted((6, aware), (3, naive), (1, _MALFORMED))


def texts() -> st.SearchStrategy[str]:
    """``String`` arguments: mostly 10-80 characters (an override's reason must be 10-500), else shorter or long."""
    return _weighted((6, st.text(min_size=10, max_size=80)), (3, st.text(max_size=10)), (1, st.text(min_size=490)))


def operations(caller: Caller, schema: graphql.GraphQLSchema, personas: Sequence[str]) -> st.SearchStrategy[str]:
    """GraphQL documents: valid queries and mutations, and invalid ones (one schema violation each)."""
    scalars = {
        "CPR": cpr_numbers(caller, personas).map(_string_node),
        "String": texts().map(_string_node),
        "Date": dates().map(_string_node),
        "DateTime": datetimes().map(_string_node),
        "_Any": representations(caller, personas),
    }
    positive = hypothesis_graphql.Mode.POSITIVE
    negative = hypothesis_graphql.Mode.NEGATIVE
    return _weighted(
        (4, hypothesis_graphql.queries(schema, custom_scalars=scalars, mode=positive)),
        (2, hypothesis_graphql.mutations(schema, custom_scalars=scalars, mode=positive)),
        (1, hypothesis_graphql.queries(schema, custom_scalars=scalars, mode=negative)),
        (1, hypothesis_graphql.mutations(schema, custom_scalars=scalars, mode=negative)),
    )
