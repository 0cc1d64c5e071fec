"""The page's forms and dialogs by keyboard, as a verifier used them (issue 14's second round).

Every form tells what is wrong at the field, in Danish, whether the page or the gateway found it
(the gateway's BAD_USER_INPUT names the argument, the page the field); a half-filled group is refused
at the field, never dropped; a submit clears what the last one said; a dialog confirming what cannot
be undone starts on "Annuller"; a CPR number is checked as the CPR scalar checks it; protected values
read as one placeholder. Each state is checked with axe-core at 1280 and 360 pixels.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS, PROTECTED
from tests.e2e.web.conftest import WebGateway
from tests.e2e.web.test_browser import Views, graphql_bodies, sign_in_as_citizen, sign_out

pytestmark = [pytest.mark.usefixtures("restore_hans"), pytest.mark.timeout(300)]

IMPOSSIBLE_CPR = "3213991234"
"""Ten digits, but the 32nd day of the 13th month."""
SOR = "378671000016008"
BLOCKS = "query Blocks($cpr: CPR!) { patient(cpr: $cpr) { blocks(first: 100) { totalCount } } }"
REGISTERS = "testamente- og donorregistrene"


def go(page: Page, link: str) -> None:
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(link)


def submit_from(field: Locator) -> None:
    """Submit the field's form by keyboard, as a person does: Enter in the field."""
    field.focus()
    field.press("Enter")


def shows_at(field: Locator, reason: str) -> None:
    """`field` is marked invalid and its description says `reason`."""
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(reason)))


def test_forms_and_dialogs_by_keyboard(page: Page, web_gateway: WebGateway, axe_script: Path, artifacts: Path) -> None:
    views = Views(page, axe_script, artifacts)
    try:
        page.goto(web_gateway.url + "/")
        sign_in_as_citizen(page, HANS)
        expect(page.get_by_role("region", name="Testamenter og organdonation")).to_be_visible()
        min_log_dates(page, views)
        min_spaerring(page, views, web_gateway)
        stamkort(page, views)
        # A CPR number typed in the picker is someone else: the choice follows, the number is not ignored.
        page.get_by_role("link", name="Skift person").click()
        page.get_by_label("En andens CPR-nummer").fill("0907644021")
        expect(page.get_by_label("En anden (skriv CPR-nummer)")).to_be_checked()
        sign_out(page)
        a_professional(page, views, web_gateway)
    except Exception:
        page.screenshot(path=artifacts / "failure-forms.png", full_page=True)
        raise
    assert views.violations == {}, f"axe-core found violations: {views.violations}"


def test_a_token_of_another_client_gets_the_text_once_its_id_is_unknown(
    page: Page, web_gateway: WebGateway, axe_script: Path, artifacts: Path
) -> None:
    """A developer pastes a token of the demo's default client: the page still works, by text."""
    sent = graphql_bodies(page)
    page.goto(web_gateway.url + "/")
    page.get_by_text("For udviklere: indsæt en adgangsnøgle").click()
    page.get_by_label("Adgangsnøgle (bearer token)").fill(web_gateway.token(actor_kind="citizen", cpr=HANS))
    page.get_by_role("button", name="Brug adgangsnøglen").click()
    expect(page.get_by_role("region", name="Person")).to_contain_text("Hans Test Jensen")
    go(page, "Aftaler")
    Views(page, axe_script, artifacts).settled()

    by_operation: dict[str, list[str]] = {}
    for body in sent:
        by_operation.setdefault(body["operationName"], []).append("documentId" if "documentId" in body else "query")
    for operation in ("Me", "Overview", "Appointments"):
        # Its id first; unknown for this token, so its text, and from then on only the text.
        assert by_operation[operation][:2] == ["documentId", "query"], by_operation
        assert set(by_operation[operation][2:]) <= {"query"}, by_operation


def min_log_dates(page: Page, views: Views) -> None:
    go(page, "Min Log")
    views.settled()
    start, end = page.get_by_label("Fra dato"), page.get_by_label("Til dato")

    # The gateway's reason for a date the log no longer keeps, at the date, not "a field is wrong".
    start.fill("2020-01-01")
    submit_from(start)
    shows_at(start, "Min Log gemmer adgange i to år")
    expect(start).to_be_focused()
    expect(page.get_by_text("Et af felterne er ikke udfyldt rigtigt")).to_have_count(0)
    views.check_sizes("min-log-dato-fejl")

    # A date the Date scalar refuses (a variable, so the whole request): its reason at the field too.
    start.fill("1899-12-31")
    submit_from(start)
    shows_at(start, "Datoen skal ligge mellem år 1900 og 2199")

    # A later submit says only what is wrong now.
    today = date.today()
    start.fill((today - timedelta(days=3)).isoformat())
    end.fill((today - timedelta(days=9)).isoformat())
    submit_from(end)
    shows_at(end, "Til-datoen må ikke ligge før fra-datoen")
    expect(start).not_to_have_attribute("aria-invalid", "true")

    start.fill("")
    end.fill("")
    submit_from(start)
    views.settled()
    summaries = page.locator(".log-entry .summary").all_inner_texts()
    assert any(REGISTERS in summary for summary in summaries), summaries
    assert all(summary.count(REGISTERS) <= 1 for summary in summaries), summaries


def min_spaerring(page: Page, views: Views, web: WebGateway) -> None:
    hans = web.token(actor_kind="citizen", cpr=HANS)
    blocks_before = web.graphql(BLOCKS, hans, cpr=HANS)["data"]["patient"]["blocks"]["totalCount"]
    go(page, "Min Spærring")
    views.settled()
    page.get_by_label("Et behandlingssted").check()
    sor = page.get_by_label("SOR-kode for behandlingsstedet")
    sor.fill(SOR)
    page.get_by_label("Data fra").fill("2024-01-01")

    # Only "Data fra": refused at "Data til" (a data period has both ends), nothing sent, nothing dropped.
    submit_from(sor)
    shows_at(page.get_by_label("Data til"), "Udfyld også »Data til«")
    views.check_sizes("min-spaerring-periode-fejl")
    assert web.graphql(BLOCKS, hans, cpr=HANS)["data"]["patient"]["blocks"]["totalCount"] == blocks_before
    expect(page.get_by_label("Data fra")).to_have_value("2024-01-01")

    # The gateway's own reason for a SOR code, at the SOR field.
    page.get_by_label("Data fra").fill("")
    sor.fill("12345")
    submit_from(sor)
    shows_at(sor, "En SOR-kode er mindst 11 cifre")
    expect(page.get_by_label("Data til")).not_to_have_attribute("aria-invalid", "true")

    page.get_by_label("En sundhedsperson").check()
    page.get_by_label("Autorisations-ID").fill("X2P9K")
    submit_from(page.get_by_label("Autorisations-ID"))
    status = page.get_by_role("status").filter(has_text="Spærringen er oprettet")
    expect(status).to_be_visible()
    block = page.locator(".block").filter(has_text="X2P9K")

    # The revoke dialog starts on "Annuller": Enter at once keeps the block.
    block.get_by_role("button", name="Ophæv").click()
    dialog = page.get_by_role("dialog", name="Ophæv spærringen?")
    expect(dialog.get_by_role("button", name="Annuller")).to_be_focused()
    views.check_sizes("min-spaerring-ophaev-fokus")
    page.keyboard.press("Enter")
    expect(dialog).to_have_count(0)
    expect(block).to_have_count(1)
    expect(status).to_have_count(1)  # nothing was done, so the last status stands

    block.get_by_role("button", name="Ophæv").click()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Ophæv spærringen")).to_be_focused()
    page.keyboard.press("Enter")
    expect(block).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Spærringen er ophævet")).to_be_visible()
    expect(page.get_by_text("Spærringen er oprettet")).to_have_count(0)


def stamkort(page: Page, views: Views) -> None:
    go(page, "Stamkort")
    phone = page.get_by_label("Telefonnummer")
    version = page.locator("#stamkort-version")
    phone.fill("22 33 44 55")
    submit_from(phone)
    saved = page.get_by_role("status").filter(has_text="Stamkortet er gemt")
    expect(saved).to_be_visible()
    before = version.inner_text()

    # A wrong value: the gateway's reason at the field, and the old "gemt" is gone.
    phone.fill("12")
    submit_from(phone)
    shows_at(phone, "Et telefonnummer er 8 cifre")
    expect(saved).to_have_count(0)
    views.check_sizes("stamkort-telefon-fejl")

    # Half an address: refused at the address line, never saved without it.
    phone.fill("22334466")
    page.get_by_label("Adresse", exact=True).fill("")
    page.get_by_label("By").fill("Aalborg")
    submit_from(page.get_by_label("By"))
    shows_at(page.get_by_label("Adresse", exact=True), "Skriv adressen")
    expect(version).to_have_text(before)


def a_professional(page: Page, views: Views, web: WebGateway) -> None:
    page.get_by_label("Sundhedsperson", exact=True).select_option(DOCTOR_WITH_RELATIONS)
    page.get_by_role("button", name="Log ind som sundhedsperson").click()
    cpr = page.get_by_label("Patientens CPR-nummer")

    # Ten digits that are no date: told at the field, as the CPR scalar would refuse them.
    cpr.fill(IMPOSSIBLE_CPR)
    submit_from(cpr)
    shows_at(cpr, "De første seks cifre i et CPR-nummer er en fødselsdato")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvem vil du se?")
    views.check_sizes("vaelg-cpr-fejl")

    # One the page holds from before (a saved session): the gateway's reason, and the way back.
    page.evaluate(
        f"sessionStorage.setItem('patientoverblik.patient', {json.dumps(json.dumps({'cpr': IMPOSSIBLE_CPR}))})"
    )
    page.goto(web.url + "/#/oversigt")
    page.reload()
    refused = page.locator(".notice-error")
    expect(refused).to_contain_text("CPR-nummer: Et CPR-nummer er 10 cifre")
    refused.get_by_role("link", name="Vælg en anden patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvem vil du se?")

    # A protected patient: every hidden value reads as one placeholder, never the gateway's code word.
    cpr.fill(PROTECTED)
    submit_from(cpr)
    expect(page.get_by_role("region", name="Person")).to_contain_text("Navne- og adressebeskyttet")
    # The header does not name them either, though the demo's persona list has the name.
    expect(page.get_by_role("banner")).to_contain_text("150277-9995")
    expect(page.get_by_role("banner")).not_to_contain_text("Berggren")
    views.check_sizes("laege-beskyttet")
    assert "ADRESSEBESKYTTET" not in page.locator("body").inner_text()
    go(page, "Stamkort")
    expect(page.get_by_label("Telefonnummer")).to_have_attribute("placeholder", "Navne- og adressebeskyttet")
    expect(page.get_by_label("Telefonnummer")).to_have_value("")
    views.check_sizes("laege-beskyttet-stamkort")
    assert "ADRESSEBESKYTTET" not in page.locator("body").inner_text()
    go(page, "Aftaler")
    page.get_by_label("Liste", exact=True).check()
    views.settled()
    assert "ADRESSEBESKYTTET" not in page.locator("body").inner_text()
