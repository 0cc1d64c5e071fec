"""One deadline per request, over real HTTP to the sandbox (ADR 0024).

Sources are slowed with the sandbox's ``latency_ms`` knob to just under their timeout. The answer comes
within the request's deadline (asserted with a generous margin: the point is that the waves no longer
add up), and says which sections were cut: ``SOURCE_TIMEOUT`` naming each source. What was asked is
counted at the sandbox: a call the time left cannot cover is never sent.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from auth.access_log import SqliteAccessLog
from gateway.settings import Settings
from sandbox.server import SOURCE_APPS, ThreadedSandbox
from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, KOL, Gateway, error_codes, recorded, settings_for, start_gateway

PETER = "0907644021"
"""Blocks OUH with its sub-units: deciding for a professional needs the SOR register."""
TIMEOUT_S = 1.0
SLOW_MS = 800
"""Every source answers after 0.8 s: each call alone is well within its 1 s timeout."""
DEADLINE = {"request_s": 1.6, "min_call_s": 0.2}
MARGIN_S = 0.7
"""Generous: without the deadline the same request takes at least 2.4 s (three waves of 0.8 s)."""

EVERYTHING = """
query Everything($cpr: CPR!) {
  patient(cpr: $cpr) {
    person { name }
    generalPractitioner { name }
    masterCard { phone registrations { organDonor } }
    appointments { complete sources { source state } list(first: 5) { nodes { id } } }
    plans { nodes { id } }
  }
}
"""


def with_timeouts(settings: Settings, seconds: float) -> Settings:
    """``settings`` with every source's (and endpoint's) total deadline set to ``seconds``."""
    changed: dict[str, Any] = {}
    for name, value in settings:
        if hasattr(value, "timeout_s") and hasattr(value, "base_url"):
            changed[name] = value.model_copy(update={"timeout_s": seconds})
    for name in ("appointment_endpoints", "plan_endpoints"):
        changed[name] = [e.model_copy(update={"timeout_s": seconds}) for e in getattr(settings, name)]
    return settings.model_copy(update=changed)


async def deadline_gateway(sandbox: ThreadedSandbox, tmp_path: Path, timeout_s: float) -> AsyncIterator[Gateway]:
    settings = with_timeouts(settings_for(sandbox, tmp_path, deadline=DEADLINE), timeout_s)
    store = SqliteAccessLog(tmp_path / "access.db")
    async for gateway in start_gateway(sandbox, settings, store):
        await gateway.graphql("{ me { kind } }", gateway.professional(DOCTOR_WITH_RELATIONS))  # the issuer's keys
        yield gateway
    await store.aclose()


def slow(sandbox: ThreadedSandbox, *names: str, ms: float = SLOW_MS) -> None:
    for name in names:
        sandbox.control(name).faults.update({"latency_ms": ms})


async def timed(gateway: Gateway, query: str, cpr: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    body = await gateway.graphql(query, gateway.professional(DOCTOR_WITH_RELATIONS), cpr=cpr)
    return body, time.monotonic() - started


async def test_with_every_source_slowed_the_answer_comes_within_the_deadline_naming_every_cut_section(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    async for gateway in deadline_gateway(sandbox, tmp_path, TIMEOUT_S):
        slow(sandbox, *SOURCE_APPS)
        for name in SOURCE_APPS:
            sandbox.control(name).recorder.clear()

        body, seconds = await timed(gateway, EVERYTHING, KOL)

        assert seconds < DEADLINE["request_s"] + MARGIN_S
        patient = body["data"]["patient"]
        assert patient is not None  # the decision's sources answered in time
        assert patient["person"] is None and patient["generalPractitioner"] is None and patient["masterCard"] is None
        assert {code for code, _ in error_codes(body)} == {"SOURCE_TIMEOUT"}
        cut = {source for _, source in error_codes(body)}
        assert {"cpr", "yderregister", "stamkort", "dds", "gp", "plans-gp"} <= cut
        assert {"consent", "treatment_relation"}.isdisjoint(cut)
        assert {s["state"] for s in patient["appointments"]["sources"]} == {"TIMEOUT"}
        # Nothing behind a cut call was asked: the practice, the register flags, any DDS document.
        assert recorded(sandbox, "yderregister") == 1 and recorded(sandbox, "registers") == 0
        assert all("/fhir/DocumentReference" in path for path in sandbox.control("dds").recorder.paths())


async def test_a_decision_input_that_does_not_answer_in_time_is_named_as_a_timeout(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    """Its own timeout (2 s) is longer than the decision's share of the deadline: the share cuts it."""
    async for gateway in deadline_gateway(sandbox, tmp_path, 2.0):
        sandbox.control("consent").faults.update({"mode": "hang"})

        body, seconds = await timed(gateway, EVERYTHING, KOL)

        assert seconds < DEADLINE["request_s"] + MARGIN_S
        assert body["data"]["patient"] is None
        assert error_codes(body) == [("SOURCE_TIMEOUT", "consent")]
        assert recorded(sandbox, "cpr") == recorded(sandbox, "stamkort") == 0  # decided nothing, fetched nothing


async def test_a_call_the_time_left_cannot_cover_is_never_sent_and_its_sections_are_named(
    sandbox: ThreadedSandbox, tmp_path: Path
) -> None:
    """The blocks and the relation answer after 1 s of the 1.6 s; the decision keeps 0.4 s for the two waves
    after it, so less than a call's 0.2 s is left for the SOR sub-units of Peter's block: SOR is never asked,
    the shared sections fail closed naming it, and the rest of the overview comes."""
    async for gateway in deadline_gateway(sandbox, tmp_path, 1.5):
        slow(sandbox, "consent", "treatment_relation", ms=1000)
        sandbox.control("sor").recorder.clear()

        body, seconds = await timed(
            gateway, "query P($cpr: CPR!) { patient(cpr: $cpr) { person { name } plans { withheld } } }", PETER
        )

        assert seconds < DEADLINE["request_s"] + MARGIN_S
        assert recorded(sandbox, "sor") == 0
        assert body["data"]["patient"]["person"] is not None
        assert error_codes(body) == [("SOURCE_TIMEOUT", "sor")]
