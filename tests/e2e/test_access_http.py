"""Access decided before execution: denied data is never fetched, and every access is recorded.

Every test runs twice: selecting the patient with ``patient(cpr:)`` and through Federation's
``_entities`` (``tests.entry_points``, ADR 0022).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auth.access_log import AccessRecord, SecurityEvent
from auth.access_log_sqlite import SqliteAccessLog
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import (
    BLOCKED_DOCTOR,
    BLOCKS_DOCTOR,
    DOCTOR_WITH_RELATIONS,
    DOCTOR_WITHOUT_RELATIONS,
    HANS,
    KOL,
    OVERVIEW,
    Gateway,
    error_codes,
    recorded,
    settings_for,
    start_gateway,
)
from tests.entry_points import BOTH, EntryPoint

DATA_SOURCES = ("cpr", "yderregister", "stamkort", "registers")
SHARED_SOURCES = ("region-syddanmark", "region-nordjylland", "municipality-odense", "gp", "dds", "plans-hospital")
pytestmark = BOTH

SHARED_OVERVIEW = """
query($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name }
    appointments(from: "2020-01-01", to: "2029-12-31") { list { totalCount } }
    plans { nodes { id } }
  }
}
"""


def assert_nothing_fetched(sandbox: ThreadedSandbox, sources: Sequence[str] = DATA_SOURCES) -> None:
    for source in sources:
        assert recorded(sandbox, source) == 0, f"{source} was asked for data the caller may not see"


async def test_citizen_asking_for_another_patient_is_forbidden_after_one_identity_lookup(gateway: Gateway) -> None:
    body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=KOL)

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert body["errors"][0]["path"] == ["patient"]
    # Deciding whether Hans represents her reads her CPR identity and his powers of attorney once each.
    assert recorded(gateway.sandbox, "cpr") == 1
    assert recorded(gateway.sandbox, "fuldmagt") == 1
    assert_nothing_fetched(gateway.sandbox, ("yderregister", "stamkort", "registers"))


async def test_doctor_blocked_by_name_sees_master_data_but_shared_data_is_never_fetched(gateway: Gateway) -> None:
    body = await gateway.graphql(SHARED_OVERVIEW, gateway.professional(BLOCKED_DOCTOR), cpr=BLOCKS_DOCTOR)

    patient = body["data"]["patient"]
    assert patient["person"] == {"name": "Anne Test Pedersen"}
    assert patient["appointments"] is None and patient["plans"] is None
    assert sorted(error_codes(body)) == [("CONSENT_DENIED", None), ("CONSENT_DENIED", None)]
    assert all(e["extensions"].get("overridable") is True for e in body["errors"])
    assert_nothing_fetched(gateway.sandbox, SHARED_SOURCES)


async def test_with_stamkort_blockable_a_named_block_hides_the_master_data_too(
    sandbox: ThreadedSandbox, tmp_path: Path, entry_point: EntryPoint
) -> None:
    store = SqliteAccessLog(tmp_path / "access.db")
    settings = settings_for(sandbox, tmp_path, stamkort_blockable=True)
    async for running in start_gateway(sandbox, settings, store):
        gateway = running.via(entry_point)
        body = await gateway.graphql(OVERVIEW, gateway.professional(BLOCKED_DOCTOR), cpr=BLOCKS_DOCTOR)

        assert body["data"]["patient"] == {"person": None, "generalPractitioner": None, "masterCard": None}
        assert {code for code, _ in error_codes(body)} == {"CONSENT_DENIED"}
        assert_nothing_fetched(gateway.sandbox)
    await store.aclose()


async def test_professional_without_treatment_relation_is_forbidden(gateway: Gateway) -> None:
    body = await gateway.graphql(OVERVIEW, gateway.professional(DOCTOR_WITHOUT_RELATIONS), cpr=HANS)

    assert error_codes(body) == [("FORBIDDEN", None)]
    assert_nothing_fetched(gateway.sandbox)


async def test_professional_with_treatment_relation_sees_the_overview(gateway: Gateway) -> None:
    body = await gateway.graphql(OVERVIEW, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=HANS)

    assert error_codes(body) == []
    assert body["data"]["patient"]["person"]["name"] == "Hans Test Jensen"


async def test_denial_of_one_patient_leaves_the_other_patient_in_the_same_request(gateway: Gateway) -> None:
    query = (
        "query($a: CPR!, $b: CPR!) { a: patient(cpr: $a) { person { name } } b: patient(cpr: $b) { person { name } } }"
    )
    body = await gateway.graphql(query, gateway.professional(BLOCKED_DOCTOR), a=BLOCKS_DOCTOR, b=HANS)

    assert body["data"] == {"a": {"person": {"name": "Anne Test Pedersen"}}, "b": None}
    assert error_codes(body) == [("FORBIDDEN", None)]
    assert body["errors"][0]["path"] == ["b"]
    assert recorded(gateway.sandbox, "cpr") == 1


async def test_consent_service_down_fails_closed_for_professionals(gateway: Gateway) -> None:
    gateway.sandbox.control("consent").faults.update({"mode": "down"})

    body = await gateway.graphql(OVERVIEW, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=HANS)

    assert body["data"] == {"patient": None}
    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "consent")]
    assert_nothing_fetched(gateway.sandbox)


async def test_anonymous_caller_is_unauthenticated_for_patient_data(gateway: Gateway) -> None:
    body = await gateway.graphql(OVERVIEW, None, cpr=HANS)

    assert error_codes(body) == [("UNAUTHENTICATED", None)]
    assert_nothing_fetched(gateway.sandbox)


async def test_skipped_fields_are_not_fetched(gateway: Gateway) -> None:
    query = """
    query($cpr: CPR!, $withCard: Boolean!) {
      patient(cpr: $cpr) { ...Who masterCard @include(if: $withCard) { phone } }
    }
    fragment Who on Patient { person { name } }
    """
    body = await gateway.graphql(query, gateway.citizen(HANS), cpr=HANS, withCard=False)

    assert body["data"]["patient"] == {"person": {"name": "Hans Test Jensen"}}
    assert recorded(gateway.sandbox, "stamkort") == 0


async def test_every_patient_access_leaves_an_access_record(gateway: Gateway) -> None:
    query = """
    query($a: CPR!, $b: CPR!) {
      a: patient(cpr: $a) { person { name } masterCard { phone } }
      b: patient(cpr: $b) { person { name } }
    }
    """
    await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), a=HANS, b=BLOCKS_DOCTOR)

    hans = await gateway.access_log.for_patient(HANS)
    other = await gateway.access_log.for_patient(BLOCKS_DOCTOR)
    assert len(hans) == 1 and len(other) == 1
    assert hans[0].actor_kind == "professional" and hans[0].actor_id == DOCTOR_WITH_RELATIONS
    assert hans[0].requested == ("master_card", "person")
    assert hans[0].returned == ("master_card", "person")
    assert hans[0].denied == ()
    assert other[0].requested == ("person",) and other[0].denied == ("person",) and other[0].returned == ()


async def test_denied_access_is_recorded_too(gateway: Gateway) -> None:
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=KOL)

    (record,) = await gateway.access_log.for_patient(KOL)
    assert record.actor_kind == "citizen" and record.actor_id == HANS
    assert set(record.denied) == {"person", "gp", "master_card", "registers"}
    assert record.returned == ()


class BrokenAccessLog(SqliteAccessLog):
    """A store whose disk is full: every write fails."""

    async def write(self, records: Sequence[AccessRecord], security_events: Sequence[SecurityEvent] = ()) -> None:
        raise OSError("disk full")


async def test_failed_access_record_fails_the_request_closed_with_no_data(
    sandbox: ThreadedSandbox, tmp_path: Path, entry_point: EntryPoint
) -> None:
    async for running in start_gateway(
        sandbox, settings_for(sandbox, tmp_path), BrokenAccessLog(tmp_path / "broken.db")
    ):
        gateway = running.via(entry_point)
        body = await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

        assert body["data"] is None
        assert error_codes(body) == [("ACCESS_LOG_UNAVAILABLE", None)]
        assert "Hans" not in str(body)
