"""The gateway's defaults point at the sandbox as ``make run`` starts it (two copies, one truth)."""

from __future__ import annotations

import pytest

from gateway.settings import SANDBOX_APPOINTMENT_ENDPOINTS, SANDBOX_PLAN_ENDPOINTS, SANDBOX_PORTS, Settings
from sandbox.__main__ import parse_faults
from sandbox.clinical import APPOINTMENT_ENDPOINTS, PLAN_ENDPOINTS
from sandbox.control import Faults
from sandbox.server import DEFAULT_PORTS, SOURCE_APPS


def test_gateway_and_sandbox_agree_on_every_port():
    assert SANDBOX_PORTS == DEFAULT_PORTS
    assert set(SOURCE_APPS) | {"issuer"} == set(DEFAULT_PORTS)


def test_gateway_defaults_describe_the_sandbox_endpoints():
    assert [(n, f.value, k.value if k else None, s) for n, f, k, s in SANDBOX_APPOINTMENT_ENDPOINTS] == [
        (e.name, e.format, e.kind, e.owner_sor) for e in APPOINTMENT_ENDPOINTS
    ]
    assert [(n, k.value) for n, k in SANDBOX_PLAN_ENDPOINTS] == [(e.name, e.kind) for e in PLAN_ENDPOINTS]


def test_default_settings_reach_every_sandbox_endpoint():
    configs = Settings().source_configs()

    assert [c.source.base_url for c in configs.appointments] == [
        f"http://127.0.0.1:{DEFAULT_PORTS[e.name]}" for e in APPOINTMENT_ENDPOINTS
    ]
    assert {c.endpoint.name for c in configs.plans} == {e.name for e in PLAN_ENDPOINTS}


def test_endpoint_names_must_be_distinct():
    endpoint = {"name": "region", "base_url": "http://127.0.0.1:1"}
    with pytest.raises(ValueError, match="distinct"):
        Settings(appointment_endpoints=[endpoint, endpoint])


def test_fault_knobs_can_be_set_per_endpoint_on_top_of_the_common_ones():
    common = Faults(latency_ms=20)

    found = parse_faults(["dds:latency_ms=400,jitter_ms=50", "gp:mode=down"], common, {"dds", "gp", "cpr"})

    assert found["dds"] == Faults(latency_ms=400, jitter_ms=50)
    assert found["gp"] == Faults(latency_ms=20, mode="down")
    assert "cpr" not in found


@pytest.mark.parametrize("spec", ["nowhere:mode=down", "dds", "dds:mode", "dds:mode=sideways", "dds:speed=1"])
def test_a_bad_fault_spec_is_refused(spec):
    with pytest.raises(ValueError):
        parse_faults([spec], Faults(), {"dds"})
