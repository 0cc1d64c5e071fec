"""The gateway as a Federation v2 subgraph, asked directly as a router asks it (ADR 0022).

``_service { sdl }`` is ``schema.graphql``, for those who may introspect; ``Patient.id`` is one opaque key
per patient that ``_entities`` opens again; and whatever comes as representations gets coded answers,
one per representation, bounded work and nothing fetched for what names no patient. The access rules
through ``_entities`` are the access-rule tests' twins (``tests.entry_points``); what only this entry
point has is here: keys that do not open, the cap, and that a representation carries no override.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auth.security_events import SecurityEventKind
from gateway.schema import schema_sdl
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from sources.patient_keys import PatientKeys
from tests.e2e.conftest import (
    BLOCKED_DOCTOR,
    BLOCKS_DOCTOR,
    DOCTOR_WITH_RELATIONS,
    HANS,
    KEYS,
    KOL,
    OVERVIEW,
    Gateway,
    Harness,
    error_codes,
    gateway_with,
    recorded,
    security_events_of,
)
from tests.e2e.federation.router import COMPOSER, COMPOSER_CLIENT
from tests.entry_points import EntryPoint, through

ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) { __typename ... on Patient { id cpr person { name } appointments { withheld } } }
}
"""
SHARED = ("region-syddanmark", "region-nordjylland", "municipality-odense", "gp", "dds", "plans-hospital")


def patient(cpr: str, keys: PatientKeys = KEYS) -> dict[str, str]:
    return {"__typename": "Patient", "id": keys.key_of(cpr)}


def asked(sandbox: ThreadedSandbox) -> int:
    return sum(recorded(sandbox, name) for name in SOURCE_APPS)


@pytest.fixture
async def composer(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway that knows a developer client, the one a composition tool reads the SDL with."""
    async for running in gateway_with(sandbox, tmp_path, clients={COMPOSER: COMPOSER_CLIENT}):
        yield running


async def test_the_sdl_of_service_is_schema_graphql_for_a_schema_explorer_and_refused_to_others(
    composer: Gateway,
) -> None:
    explorer = composer.token(actor_kind="citizen", cpr=HANS, client_id=COMPOSER)

    given = await composer.graphql("{ _service { sdl } }", explorer)
    refused = await composer.graphql("{ _service { sdl } }", composer.citizen(HANS))

    assert given["data"]["_service"]["sdl"] + "\n" == schema_sdl()
    assert '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])' in schema_sdl()
    assert 'type Patient @key(fields: "id"' in schema_sdl()
    assert refused.get("data") is None and error_codes(refused) == [("GRAPHQL_VALIDATION_FAILED", None)]
    assert asked(composer.sandbox) == 0


async def test_a_patients_key_is_the_same_every_time_opens_to_the_patient_and_is_not_the_number(
    gateway: Gateway,
) -> None:
    token = gateway.professional(DOCTOR_WITH_RELATIONS)
    query = "query($a: CPR!, $b: CPR!) { a: patient(cpr: $a) { id } b: patient(cpr: $b) { id } }"

    first = (await gateway.graphql(query, token, a=HANS, b=KOL))["data"]
    again = (await gateway.graphql(query, token, a=HANS, b=KOL))["data"]
    through_entities = await gateway.graphql(ENTITIES, token, r=[{"__typename": "Patient", "id": first["a"]["id"]}])

    assert first == again and first["a"]["id"] != first["b"]["id"]
    assert HANS not in first["a"]["id"] and KEYS.cpr_of(first["a"]["id"]) == HANS
    (found,) = through_entities["data"]["_entities"]
    assert found["id"] == first["a"]["id"] and found["person"]["name"] == "Hans Test Jensen"


def test_the_twins_really_select_through_entities() -> None:
    query, variables = through(EntryPoint.ENTITIES, OVERVIEW, {"cpr": HANS}, KEYS)

    assert "patient(" not in query and "_entities(representations:" in query
    assert variables == {"cprKey": KEYS.key_of(HANS)}


async def test_each_bad_representation_gets_its_coded_error_and_names_no_patient(gateway: Gateway) -> None:
    sent: list[Any] = [
        patient(HANS, PatientKeys.generate()),  # another deployment's key
        {"__typename": "Patient", "id": HANS},  # a number is not a key
        {"__typename": "Person", "id": KEYS.key_of(KOL)},
        {"__typename": "Patient", "id": KEYS.key_of(KOL), "cpr": KOL},
        {"__typename": "Patient"},
        7,
        patient(HANS),
    ]

    body = await gateway.graphql(ENTITIES, gateway.professional(DOCTOR_WITH_RELATIONS), r=sent)

    *refused, hans = body["data"]["_entities"]
    assert refused == [None] * 6 and hans["cpr"] == HANS
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["_entities", 0], {"code": "BAD_USER_INPUT", "argument": "representations.0.id"}),
        (["_entities", 1], {"code": "BAD_USER_INPUT", "argument": "representations.1.id"}),
        (["_entities", 2], {"code": "BAD_USER_INPUT", "argument": "representations.2.__typename"}),
        (["_entities", 3], {"code": "BAD_USER_INPUT", "argument": "representations.3"}),
        (["_entities", 4], {"code": "BAD_USER_INPUT", "argument": "representations.4"}),
        (["_entities", 5], {"code": "BAD_USER_INPUT", "argument": "representations.5"}),
    ]
    assert KOL not in str(body["errors"])
    assert recorded(gateway.sandbox, "cpr") == 1  # Hans's identity, for the decision; nobody else's
    assert await gateway.access_log.for_patient(KOL) == []
    (event,) = await security_events_of(gateway.access_log)
    assert (event.kind, event.patients) == (SecurityEventKind.PATIENT_KEY_INVALID, 2)
    assert HANS not in repr(event)


@pytest.mark.parametrize(
    ("fields", "sizes", "refused"),
    [
        ("a: _entities(representations: $r) { __typename }", (30,), False),
        ("a: _entities(representations: $r) { __typename }", (31,), True),
        (
            "a: _entities(representations: $r) { __typename } b: _entities(representations: $s) { __typename }",
            (16, 15),
            True,
        ),
    ],
)
async def test_more_representations_than_the_cap_are_refused_before_anything_is_asked(
    gateway: Gateway, fields: str, sizes: tuple[int, ...], refused: bool
) -> None:
    names = ("r", "s")[: len(sizes)]
    query = f"query({', '.join(f'${n}: [_Any!]!' for n in names)}) {{ {fields} }}"
    variables = {n: [patient(HANS)] * size for n, size in zip(names, sizes, strict=True)}

    body = await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), **variables)

    if refused:
        assert body.get("data") is None and error_codes(body) == [("QUERY_TOO_COMPLEX", None)]
        assert body["errors"][0]["extensions"] == {
            "code": "QUERY_TOO_COMPLEX",
            "limit": "maxRepresentations",
            "maximum": 30,
        }
        assert asked(gateway.sandbox) == 0
        assert await gateway.access_log.for_patient(HANS) == []
    else:
        assert error_codes(body) == [] and len(body["data"]["a"]) == 30
        assert len(await gateway.access_log.for_patient(HANS)) == 1, "one patient, one record"


async def test_a_representation_carries_no_override_a_blocked_doctor_overrides_through_patient(
    gateway: Gateway,
) -> None:
    token = gateway.professional(BLOCKED_DOCTOR)
    override = {"ground": "PATIENT_CONSENT", "reason": "Patienten gav mundtligt samtykke i konsultationen"}

    blocked = await gateway.graphql(ENTITIES, token, r=[patient(BLOCKS_DOCTOR)])
    smuggled = await gateway.graphql(ENTITIES, token, r=[{**patient(BLOCKS_DOCTOR), "override": override}])

    assert blocked["data"]["_entities"][0]["person"] == {"name": "Anne Test Pedersen"}
    assert [(e["path"], e["extensions"]) for e in blocked["errors"]] == [
        (["_entities", 0, "appointments"], {"code": "CONSENT_DENIED", "overridable": True})
    ]
    assert smuggled["data"] == {"_entities": [None]}
    assert smuggled["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "representations.0"}
    assert sum(recorded(gateway.sandbox, name) for name in SHARED) == 0
    records = await gateway.access_log.for_patient(BLOCKS_DOCTOR)
    assert len(records) == 1 and records[0].override_ground is None


async def test_an_unregistered_system_may_not_select_entities_and_nothing_is_asked(gateway: Gateway) -> None:
    token = gateway.token(actor_kind="system", client_id="epj-unknown", authorization_id=DOCTOR_WITH_RELATIONS)

    body = await gateway.graphql(ENTITIES, token, r=[patient(HANS)])

    assert body["data"] is None  # `_entities` is a non-null list: its refusal nulls the answer
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        ("FORBIDDEN", "Query._entities")
    ]
    assert asked(gateway.sandbox) == 0
    (event,) = await security_events_of(gateway.access_log)
    assert (event.kind, event.patients) == (SecurityEventKind.CLIENT_NOT_REGISTERED, 1)


json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
representations = st.lists(
    st.one_of(
        st.sampled_from([HANS, KOL, BLOCKS_DOCTOR]).map(patient),
        st.sampled_from([HANS, KOL]).map(lambda cpr: {**patient(cpr), "id": patient(cpr)["id"][::-1]}),
        json,
    ),
    max_size=6,
)


@pytest.fixture
async def harness(sandbox: ThreadedSandbox, tmp_path: Path) -> AsyncIterator[Harness]:
    async for running in gateway_with(sandbox, tmp_path):
        yield Harness(running)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=representations)
async def test_whatever_comes_as_representations_gets_one_answer_each_data_or_a_coded_error(
    harness: Harness, sent: list[Any]
) -> None:
    gateway = harness.gateway

    response = await gateway.post(ENTITIES, gateway.professional(DOCTOR_WITH_RELATIONS), r=sent)

    assert response.status_code == 200
    body = response.json()
    if None in sent:  # `[_Any!]!`: a null representation is a variable that does not coerce, so nothing runs
        assert body["data"] is None and error_codes(body) == [("BAD_USER_INPUT", None)]
        return
    found = body["data"]["_entities"]
    assert len(found) == len(sent)
    coded = {tuple(e["path"][:2]): e["extensions"]["code"] for e in body.get("errors", [])}
    for index, item in enumerate(found):
        if item is None:
            assert coded[("_entities", index)] in {"BAD_USER_INPUT", "FORBIDDEN"}
        else:
            assert sent[index] == {"__typename": "Patient", "id": item["id"]}
    assert "INTERNAL_ERROR" not in coded.values()
