"""`me` tells whom the caller may act for (a picker needs no guessing) and what its client may do.

``actsFor`` is read from the holder's side (CPR's ``relation-holder`` search, Digital Fuldmagt by
holder) and decided by the access rules; it leaves no access record. ``client`` shows the calling
client's allow-list, trusted documents and limits, to that client only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auth.access_log import SqliteAccessLog
from auth.fields import ALWAYS_ALLOWED
from sandbox.server import ThreadedSandbox
from tests.e2e.conftest import HANS, Gateway, error_codes, recorded

MOTHER = "1908830938"
CHILD_UNDER_15 = "1006154216"
CHILD_15 = "0204114575"
REPRESENTATIVE = "1709683160"
REPRESENTATIVE_LIMITED = "2205753484"
REPRESENTATIVE_EXPIRED = "0310502239"
GUARDIAN = "0108629996"
WARD = "0104909995"

ACTS_FOR = """
query ActsFor { me { actsFor { totalCount nodes { cpr name kinds categories scopes until } } } }
"""
CLIENT = """
query Client {
  me {
    client {
      clientId registered name allowedFields trustedDocumentsOnly schemaExploration
      trustedDocuments { id sha256 operationNames }
      limits { maxCost requestsPerWindow costPerWindow windowSeconds }
    }
  }
}
"""


async def acts_for(gateway: Gateway, cpr: str) -> list[dict[str, Any]]:
    body = await gateway.graphql(ACTS_FOR, gateway.citizen(cpr))
    assert "errors" not in body, body
    listed: list[dict[str, Any]] = body["data"]["me"]["actsFor"]["nodes"]
    assert body["data"]["me"]["actsFor"]["totalCount"] == len(listed)
    return listed


async def test_a_parent_sees_children_under_15_only(gateway: Gateway) -> None:
    listed = await acts_for(gateway, MOTHER)

    cprs = {entry["cpr"] for entry in listed}
    assert CHILD_UNDER_15 in cprs
    assert CHILD_15 not in cprs  # a parent's access ends on the 15th birthday
    ida = next(e for e in listed if e["cpr"] == CHILD_UNDER_15)
    assert ida["kinds"] == ["PARENT"]
    assert ida["name"] == "Ida Test Nielsen"
    assert ida["until"] == "2030-06-09"
    assert "DIAGNOSES" not in ida["categories"] and "APPOINTMENTS" in ida["categories"]


async def test_a_representative_sees_the_givers_of_valid_powers_with_their_scopes(gateway: Gateway) -> None:
    [hans] = await acts_for(gateway, REPRESENTATIVE)
    assert hans["cpr"] == HANS
    assert hans["kinds"] == ["REPRESENTATIVE"]
    assert hans["scopes"] == ["access_log", "blocks", "master_card", "overview"]
    assert hans["until"] is None
    assert hans["name"]

    [limited] = await acts_for(gateway, REPRESENTATIVE_LIMITED)
    assert limited["scopes"] == ["master_card"]
    assert "DIAGNOSES" not in limited["categories"]

    assert await acts_for(gateway, REPRESENTATIVE_EXPIRED) == []


async def test_a_guardian_sees_the_wards(gateway: Gateway) -> None:
    listed = await acts_for(gateway, GUARDIAN)
    ward = next(e for e in listed if e["cpr"] == WARD)
    assert ward["kinds"] == ["GUARDIAN"]
    assert ward["until"] is None


async def test_the_listing_leaves_no_access_record_and_asks_each_source_once(
    gateway: Gateway, sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    await acts_for(gateway, REPRESENTATIVE)

    assert recorded(sandbox, "fuldmagt") == 1
    assert recorded(sandbox, "cpr") == 2  # the relation search, then the givers' names
    store = gateway.access_log
    assert isinstance(store, SqliteAccessLog)
    assert await store.for_patient(HANS) == []


async def test_nobody_but_a_citizen_has_representations_and_nothing_is_asked(
    gateway: Gateway, sandbox: ThreadedSandbox
) -> None:
    body = await gateway.graphql(ACTS_FOR, gateway.professional("CBDJ6"))
    anonymous = await gateway.graphql(ACTS_FOR)

    assert body["data"]["me"]["actsFor"] == anonymous["data"]["me"]["actsFor"] == {"totalCount": 0, "nodes": []}
    assert recorded(sandbox, "cpr") == recorded(sandbox, "fuldmagt") == 0


async def test_a_failed_source_leaves_out_what_it_would_tell_and_names_itself(
    gateway: Gateway, sandbox: ThreadedSandbox
) -> None:
    sandbox.control("fuldmagt").faults.update({"mode": "down"})

    body = await gateway.graphql(ACTS_FOR, gateway.citizen(MOTHER))

    assert error_codes(body) == [("SOURCE_UNAVAILABLE", "fuldmagt")]
    assert CHILD_UNDER_15 in {e["cpr"] for e in body["data"]["me"]["actsFor"]["nodes"]}


async def test_a_vendor_system_can_read_its_own_allow_list_and_limits(gateway: Gateway) -> None:
    token = gateway.token(actor_kind="system", client_id="epj-odense", authorization_id="CBDJ6")

    client = (await gateway.graphql(CLIENT, token))["data"]["me"]["client"]

    assert client["clientId"] == "epj-odense" and client["registered"] is True
    assert "Patient.appointments" in client["allowedFields"]
    assert "Patient.plans" not in client["allowedFields"]
    assert {"Query.me", "Me.*"} <= set(client["allowedFields"])
    assert client["limits"]["maxCost"] > 0


async def test_an_unregistered_system_is_told_it_is_not_registered(gateway: Gateway) -> None:
    token = gateway.token(actor_kind="system", client_id="epj-unknown", authorization_id="CBDJ6")

    client = (await gateway.graphql(CLIENT, token))["data"]["me"]["client"]
    body = await gateway.graphql("query P($cpr: CPR!) { patient(cpr: $cpr) { cpr } }", token, cpr=HANS)

    assert client["registered"] is False
    assert client["allowedFields"] == sorted(ALWAYS_ALLOWED)
    assert {"Query.me", "Me.*", "RepresentationConnection.*", "Representation.*", "PageInfo.*"} <= ALWAYS_ALLOWED
    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "'epj-unknown' is not registered" in error["message"]
