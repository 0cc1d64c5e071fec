"""Two gateway processes sharing one PostgreSQL access log and one Redis (issue 13, ADR 0026).

Two real ``uvicorn`` processes on ports of their own, configured only by environment variables, over
the sandbox's real HTTP sources, with one PostgreSQL access log (a schema of this module's own) and
one Redis. Requests alternate between them, and:

- every access is recorded once: each answer's ``X-Request-Id`` is exactly one access record;
- the Min Log export is sent once: the sandbox's Min Log counts every time each record reaches it,
  and one process at a time holds the export lease; when that process dies (SIGKILL), the other takes
  over once the lease expires, and still nothing is sent twice;
- rate limits are shared: a client's window counts its requests to either process.

The front of the test is :func:`front`, the GraphQL URLs requests go to, in turn: each process itself,
as a round-robin load balancer would send them, and a federation router (Hive Gateway,
``tests/e2e/federation/router.py``) in front of both, taking turns between them. Through the router
each access record's request id shows in the HTTP access lines of exactly one process, and both
processes have some: the router really spread the requests. The rate-limit and export tests keep the
direct alternation (a router answers a subgraph's 429 as an error of its own, and the export test
kills a process). Without PostgreSQL or Redis the tests skip, under ``CI=true`` they fail; without
node or Hive Gateway the router's case skips.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from sandbox.population import Population
from sandbox.server import ThreadedSandbox
from tests.auth.conftest import postgres_server_url
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, KOL, OVERVIEW, settings_for, sign
from tests.e2e.federation.router import COMPOSER, COMPOSER_CLIENT, Subgraph, router
from tests.e2e.instances import GatewayProcess, redis_url, start_gateway_process
from tests.e2e.log_scan import forbidden_words, personal_data_in

__all__ = ["postgres_server_url", "redis_url"]  # fixtures used here

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

EXPORT_INTERVAL_S = 0.2
LEASE_S = 2.0
"""Short, so a dead exporter is replaced within the test; far longer than one export run here."""
SETTLES_WITHIN_S = 30.0
REQUESTS_PER_WINDOW = 4
LEASE_HELD_METRIC = "patientoverblik_access_log_export_lease_held "


@dataclass
class Instances:
    """The running processes, their shared access log and the client whose budget they share."""

    processes: list[GatewayProcess]
    database_url: str
    sandbox: ThreadedSandbox
    client_id: str


@pytest.fixture(scope="module")
def instances(
    postgres_server_url: str,
    redis_url: str,
    running_sandbox: ThreadedSandbox,
    population: Population,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Instances]:
    """Two gateway processes on one access log (a fresh schema) and one Redis; their logs scanned afterwards."""
    schema = f"instances_test_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_server_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_server_url else "?"
    database_url = f"{postgres_server_url}{separator}options=-csearch_path%3D{schema}"
    client_id = f"epj-{uuid.uuid4().hex[:12]}"  # a key no earlier run has counted
    folder = tmp_path_factory.mktemp("instances")
    settings = settings_for(
        running_sandbox,
        folder,
        database_url=database_url,
        redis_url=redis_url,
        minlog_export_interval_s=EXPORT_INTERVAL_S,
        minlog_export_lease_s=LEASE_S,
        clients={
            client_id: {"name": "EPJ", "fields": ["Query.patient"], "requests_per_window": REQUESTS_PER_WINDOW},
            COMPOSER: COMPOSER_CLIENT,  # the router's token for the subgraph's SDL
        },
    )
    processes: list[GatewayProcess] = []
    try:
        for name in ("gateway-a", "gateway-b"):
            processes.append(start_gateway_process(settings, folder, name))
        yield Instances(processes, database_url, running_sandbox, client_id)
    finally:
        for process in processes:
            process.stop()
        with psycopg.connect(postgres_server_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    lines = [line for process in processes for line in process.log_lines()]
    hits = personal_data_in(lines, forbidden_words(population))
    assert not hits, f"{len(hits)} log lines of the gateway processes hold personal data, e.g. {hits[:3]}"


@pytest.fixture(scope="module")
def routed(instances: Instances) -> Iterator[str]:
    """Hive Gateway in front of both processes (one subgraph, two instances, taken in turns): its GraphQL URL."""
    composer = sign(instances.sandbox, actor_kind="citizen", cpr=HANS, client_id=COMPOSER)
    overview = Subgraph("overview", tuple(f"{p.url}/graphql" for p in instances.processes))
    with router([overview], sdl_headers={"authorization": f"Bearer {composer}"}) as url:
        yield url


@pytest.fixture(params=["balancer", "router"])
def front(request: pytest.FixtureRequest, instances: Instances) -> list[str]:
    """The GraphQL URLs requests go to, in turn: each live process (a round-robin balancer), or the router."""
    if request.param == "router":
        return [request.getfixturevalue("routed")]
    return balanced(instances)


def balanced(instances: Instances) -> list[str]:
    """Each live process's GraphQL URL, as a round-robin balancer takes them."""
    return [f"{p.url}/graphql" for p in instances.processes if p.process.poll() is None]


def served_by(instances: Instances, request_ids: set[str]) -> list[set[str]]:
    """Of ``request_ids``, those each process's HTTP access lines name, process by process."""
    served: list[set[str]] = []
    for process in instances.processes:
        logged = (json.loads(line) for line in process.log_lines() if line.startswith("{"))
        served.append({str(line["request_id"]) for line in logged if line.get("logger") == "uvicorn.access"})
    return [ids & request_ids for ids in served]


def post(url: str, query: str, token: str, **variables: Any) -> httpx.Response:
    return httpx.post(
        url,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
        timeout=60,
    )


def rows(instances: Instances, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(instances.database_url) as db:
        return db.execute(query).fetchall()


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + SETTLES_WITHIN_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {SETTLES_WITHIN_S} s: {what}")
        time.sleep(0.1)


def pending(instances: Instances) -> int:
    [(count,)] = rows(instances, "SELECT count(*) FROM access_record WHERE exported_at IS NULL")
    return int(count)


def times_received(instances: Instances) -> Counter[str]:
    """How many times the sandbox's Min Log received each access record, by id."""
    answer = httpx.get(f"{instances.sandbox.url('minlog')}/_sandbox/received", timeout=10)
    return Counter(answer.json())


def lease_holder(instances: Instances) -> int:
    """The process id of the export lease's holder (its holder name is ``host:pid:…``)."""
    [(holder,)] = rows(instances, "SELECT holder FROM export_lease")
    return int(str(holder).split(":")[1])


def exports_here(process: GatewayProcess) -> bool:
    """Whether the process says, in its metrics, that it holds the export lease."""
    metrics = httpx.get(f"{process.url}/metrics", timeout=10).text
    [value] = [line.split()[-1] for line in metrics.splitlines() if line.startswith(LEASE_HELD_METRIC)]
    return float(value) == 1.0


def test_requests_alternate_and_every_access_is_recorded_once(instances: Instances, front: list[str]) -> None:
    token = sign(instances.sandbox, actor_kind="citizen", cpr=HANS)
    before = {str(r) for (r,) in rows(instances, "SELECT request_id FROM access_record")}
    answers = [post(front[n % len(front)], OVERVIEW, token, cpr=HANS) for n in range(10)]

    assert [a.status_code for a in answers] == [200] * 10
    assert all(a.json()["data"]["patient"]["person"]["name"] for a in answers), answers[0].text
    recorded = Counter(
        str(request_id)
        for (request_id,) in rows(instances, "SELECT request_id FROM access_record WHERE patient_cpr = '1403723705'")
        if str(request_id) not in before
    )
    assert sum(recorded.values()) == 10 and set(recorded.values()) == {1}
    if len(front) > 1:  # straight to the processes: each answer names its record
        assert recorded == Counter(a.headers["x-request-id"] for a in answers)
    wait_until(lambda: set.union(*served_by(instances, set(recorded))) == set(recorded), "every request logged")
    first, second = served_by(instances, set(recorded))
    assert not first & second  # each request served by one process
    assert (len(first), len(second)) == (5, 5)  # both served: in turns, through the router too


def test_rate_limits_are_shared(instances: Instances) -> None:
    front = balanced(instances)
    token = sign(
        instances.sandbox, actor_kind="system", client_id=instances.client_id, authorization_id=DOCTOR_WITH_RELATIONS
    )
    statuses = [post(front[n % len(front)], "query Me { me { kind } }", token).status_code for n in range(6)]

    assert statuses == [200] * REQUESTS_PER_WINDOW + [429, 429]


def test_the_min_log_export_is_sent_once_and_a_dead_exporter_is_replaced(instances: Instances) -> None:
    front = balanced(instances)
    token = sign(instances.sandbox, actor_kind="citizen", cpr=KOL)
    for n in range(6):
        assert post(front[n % len(front)], OVERVIEW, token, cpr=KOL).status_code == 200
    wait_until(lambda: pending(instances) == 0, "every record exported")
    holder = next(p for p in instances.processes if p.pid == lease_holder(instances))
    survivor = next(p for p in instances.processes if p is not holder)
    assert (exports_here(holder), exports_here(survivor)) == (True, False)

    holder.kill()  # no last run, no release: its lease runs out on its own
    for _ in range(4):
        assert post(f"{survivor.url}/graphql", OVERVIEW, token, cpr=KOL).status_code == 200
    wait_until(lambda: pending(instances) == 0, "the survivor exported what came after")

    ids = [str(record_id) for (record_id,) in rows(instances, "SELECT id FROM access_record")]
    received = times_received(instances)
    assert {record_id: received[record_id] for record_id in ids} == dict.fromkeys(ids, 1)
    assert lease_holder(instances) == survivor.pid
    assert exports_here(survivor)
