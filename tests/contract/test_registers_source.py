"""Contract tests for the will and donor registers adapter against the simulated registers."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from sandbox import registers
from sandbox.population import Population, Registrations
from sources.errors import SourceResponseInvalid, SourceTimeout, SourceUnavailable
from sources.models import (
    LivingWillRecord,
    Organ,
    OrganDonorDecision,
    OrganDonorRecord,
    RegisterDetailsRecord,
    RegistrationsRecord,
    TreatmentWillSituation,
)
from sources.registers import RegistersSource
from tests.contract.conftest import MockClientFactory, SandboxClientFactory

HANS = "1403723705"
KOL = "2309510372"


async def test_hans_has_treatment_will_and_is_organ_donor(population, sandbox_client: SandboxClientFactory):
    client, _ = sandbox_client(registers.create_app(population), "registers")
    cpr = population.personas["hans"]

    result = await RegistersSource(client).registrations_for([cpr])

    assert result == {
        cpr: RegistrationsRecord(
            cpr, treatment_will=True, living_will=False, organ_donor=True, resuscitation_opt_out=False
        )
    }


async def test_two_patients_in_one_request_unknown_is_none(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")
    hans, kol = population.personas["hans"], population.personas["kol_diabetes"]

    result = await RegistersSource(client).registrations_for([hans, kol, kol, "0101010000"])

    assert set(result) == {hans, kol, "0101010000"}
    assert result["0101010000"] is None
    kol_flags = result[kol]
    assert isinstance(kol_flags, RegistrationsRecord)
    assert kol_flags.resuscitation_opt_out and kol_flags.living_will
    assert not kol_flags.organ_donor and not kol_flags.treatment_will
    assert len(controlled.recorder.requests) == 1
    assert controlled.recorder.requests[0].path == "/registrations"


async def test_empty_input_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")

    assert await RegistersSource(client).registrations_for([]) == {}
    assert controlled.recorder.requests == []


async def test_sandbox_answers_400_for_a_bad_cpr(population):
    app = registers.create_app(population)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registers") as http:
        response = await http.get("/registrations", params={"cpr": f"{HANS},12345"})

    assert response.status_code == 400


async def test_server_error_is_unavailable(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(500, text=HANS), "registers")

    with pytest.raises(SourceUnavailable) as caught:
        await RegistersSource(client).registrations_for([HANS])

    assert HANS not in str(caught.value)


async def test_read_timeout_is_source_timeout(mock_client: MockClientFactory):
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(SourceTimeout):
        await RegistersSource(mock_client(hang, "registers")).registrations_for([HANS])


def _flags(cpr: str) -> dict[str, Any]:
    flag = {"registered": False}
    return {"cpr": cpr, "treatmentWill": flag, "livingWill": flag, "organDonor": flag, "resuscitationOptOut": flag}


async def test_a_result_that_cannot_be_read_fails_only_its_patient_without_cpr_in_message(
    mock_client: MockClientFactory,
):
    body = {"results": [{"cpr": HANS, "treatmentWill": {"registered": "yes"}}, _flags(KOL)]}
    client = mock_client(lambda request: httpx.Response(200, json=body), "registers")

    found = await RegistersSource(client).registrations_for([HANS, KOL])

    error = found[HANS]
    assert isinstance(error, SourceResponseInvalid)
    assert HANS not in str(error)
    assert found[KOL] == RegistrationsRecord(KOL, False, False, False, False)


async def test_a_result_naming_no_patient_fails_every_unanswered_patient(mock_client: MockClientFactory):
    body = {"results": [{"treatmentWill": {"registered": True}}, _flags(KOL)]}
    client = mock_client(lambda request: httpx.Response(200, json=body), "registers")

    found = await RegistersSource(client).registrations_for([HANS, KOL])

    assert isinstance(found[HANS], SourceResponseInvalid)
    assert isinstance(found[KOL], RegistrationsRecord)


async def test_an_answer_without_results_is_invalid(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(200, json={"results": 7}), "registers")

    with pytest.raises(SourceResponseInvalid):
        await RegistersSource(client).registrations_for([HANS])


async def test_garbage_and_non_json_are_invalid(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")
    source = RegistersSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.registrations_for([HANS])


# Register details: the content, in a separate call.


async def test_details_of_many_patients_come_in_one_request_and_unknown_is_none(
    population, sandbox_client: SandboxClientFactory
):
    client, controlled = sandbox_client(registers.create_app(population), "registers")
    unknown = "0101010000"

    result = await RegistersSource(client).details_for([HANS, KOL, HANS, unknown])

    assert set(result) == {HANS, KOL, unknown}
    assert result[unknown] is None
    hans = result[HANS]
    assert isinstance(hans, RegisterDetailsRecord) and hans.treatment_will is not None and hans.organ_donor is not None
    assert hans.treatment_will.situations == tuple(TreatmentWillSituation)
    assert hans.treatment_will.registered >= date(2019, 1, 1)
    assert hans.organ_donor.decision is OrganDonorDecision.FULL
    assert hans.organ_donor.organs == ()
    assert hans.living_will is None and hans.resuscitation_opt_out is None
    kol = result[KOL]
    assert (
        isinstance(kol, RegisterDetailsRecord) and kol.living_will is not None and kol.resuscitation_opt_out is not None
    )
    assert kol.living_will.registered < date(2019, 1, 1)
    assert kol.treatment_will is None and kol.organ_donor is None
    assert [r.path for r in controlled.recorder.requests] == ["/registrations/details"]


async def test_a_limited_donor_permission_comes_with_its_organs_and_given_dates(sandbox_client: SandboxClientFactory):
    world = Population(seed=0, anchor=date(2025, 6, 1))
    world.registrations[HANS] = Registrations(
        organ_donor=True,
        organ_donor_decision="LIMITED_SUBJECT_TO_FAMILY",
        organ_donor_organs=("kidneys", "corneas"),
        organ_donor_registered=date(2016, 3, 2),
        living_will=True,
        living_will_registered=date(2001, 5, 9),
    )
    client, _ = sandbox_client(registers.create_app(world), "registers")

    result = await RegistersSource(client).details_for([HANS])

    assert result == {
        HANS: RegisterDetailsRecord(
            HANS,
            living_will=LivingWillRecord(date(2001, 5, 9)),
            organ_donor=OrganDonorRecord(
                OrganDonorDecision.LIMITED_SUBJECT_TO_FAMILY, date(2016, 3, 2), (Organ.KIDNEYS, Organ.CORNEAS)
            ),
        )
    }


def test_derived_registration_days_fall_inside_each_registers_lifetime(population):
    for cpr, flags in population.registrations.items():
        body = registers.details_of(cpr, flags, population.anchor)
        days = {key: date.fromisoformat(value["registered"]) for key, value in body.items() if isinstance(value, dict)}
        assert all(day <= population.anchor for day in days.values())
        assert days.get("treatmentWill", date.max) >= date(2019, 1, 1)
        assert days.get("livingWill", date.min) <= date(2018, 12, 31)
        assert days.get("resuscitationOptOut", date.max) >= min(date(2025, 1, 15), population.anchor)


async def test_details_for_no_patients_sends_no_request(population, sandbox_client: SandboxClientFactory):
    client, controlled = sandbox_client(registers.create_app(population), "registers")

    assert await RegistersSource(client).details_for([]) == {}
    assert controlled.recorder.requests == []


async def test_sandbox_details_answer_400_for_a_bad_cpr(population):
    app = registers.create_app(population)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registers") as http:
        response = await http.get("/registrations/details", params={"cpr": f"{HANS},12345"})

    assert response.status_code == 400


def _details(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cpr": HANS,
        "treatmentWill": {"registered": "2021-06-14", "situations": ["terminal"]},
        "livingWill": None,
        "organDonor": {"decision": "FULL", "registered": "2010-02-03", "organs": []},
        "resuscitationOptOut": None,
    }
    return body | changes


async def test_well_formed_details_are_accepted(mock_client: MockClientFactory):
    client = mock_client(lambda request: httpx.Response(200, json={"results": [_details()]}), "registers")

    result = await RegistersSource(client).details_for([HANS])

    assert result[HANS] is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"organDonor": {"decision": "MAYBE", "registered": "2010-02-03", "organs": []}},
        {"organDonor": {"decision": "LIMITED", "registered": "2010-02-03", "organs": []}},
        {"organDonor": {"decision": "FULL", "registered": "2010-02-03", "organs": ["heart"]}},
        {"organDonor": {"decision": "LIMITED", "registered": "2010-02-03", "organs": ["spleen"]}},
        {"treatmentWill": {"registered": "2021-06-14", "situations": []}},
        {"treatmentWill": {"registered": 1623628800, "situations": ["terminal"]}},
        {"treatmentWill": {"registered": "2021-02-30", "situations": ["terminal"]}},
        {"livingWill": True},
        {"cpr": KOL},
    ],
    ids=[
        "unknown-decision",
        "limited-without-organs",
        "organs-without-limit",
        "unknown-organ",
        "will-without-situations",
        "timestamp-date",
        "impossible-date",
        "flag-instead-of-details",
        "patient-not-asked",
    ],
)
async def test_malformed_details_fail_the_patient_without_cpr_in_message(
    mock_client: MockClientFactory, changes: dict[str, Any]
):
    client = mock_client(lambda request: httpx.Response(200, json={"results": [_details(**changes)]}), "registers")

    error = (await RegistersSource(client).details_for([HANS]))[HANS]

    assert isinstance(error, SourceResponseInvalid)
    assert HANS not in str(error) and KOL not in str(error)
    assert HANS not in str(error.__cause__)


async def test_a_details_answer_missing_a_register_fails_the_patient(mock_client: MockClientFactory):
    body = _details()
    del body["livingWill"]
    client = mock_client(lambda request: httpx.Response(200, json={"results": [body]}), "registers")

    assert isinstance((await RegistersSource(client).details_for([HANS]))[HANS], SourceResponseInvalid)


async def test_details_garbage_non_json_and_server_errors_map_to_source_errors(
    population, sandbox_client: SandboxClientFactory
):
    client, controlled = sandbox_client(registers.create_app(population), "registers")
    source = RegistersSource(client)

    for mode in ("garbage", "not_json"):
        controlled.faults.mode = mode
        with pytest.raises(SourceResponseInvalid):
            await source.details_for([HANS])
    controlled.faults.mode = "down"
    with pytest.raises(SourceUnavailable):
        await source.details_for([HANS])
