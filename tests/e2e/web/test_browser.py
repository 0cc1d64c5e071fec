"""The web page (issue 14) driven in headless Chromium as people use it, checked with axe-core.

Hans switches the Aftaler views, filters by sector, edits his phone (and meets a version conflict
without losing what he typed) and sets and lifts a block; doctor CBDJ6 overrides Peter's blocks
(through the API, as another client would), and Peter reads it in Min Log; a mother picks her
daughter to act for; then CBDJ6 uses the page for Peter: `withheld`, the værdispring dialog, and
more appointments and diagnoses. Every view is saved as a screenshot in test-artifacts/web/ and
checked with axe-core: no violation of any impact.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.conftest import DOCTOR_WITH_RELATIONS, HANS
from tests.e2e.web.conftest import WebGateway

pytestmark = [pytest.mark.usefixtures("restore_hans"), pytest.mark.timeout(300)]

PETER = "0907644021"
MOTHER = "1908830938"
REASON = "Bevidstløs ved indlæggelse, akut dialyse"
OVERRIDE = """
query Override($cpr: CPR!, $override: OverrideInput) {
  patient(cpr: $cpr, override: $override) { appointments(from: "2018-01-01", to: "2027-12-31") { withheld } }
}
"""
CARD = "query Card($cpr: CPR!) { patient(cpr: $cpr) { masterCard { version } } }"
UPDATE = """
mutation Update($cpr: CPR!, $version: String!, $changes: MasterCardChanges!) {
  updateMasterCard(cpr: $cpr, version: $version, changes: $changes) { version }
}
"""


class Views:
    """Screenshots and axe-core runs of each view, collected so every view is saved before asserting."""

    def __init__(self, page: Page, axe: Path, folder: Path) -> None:
        self.page = page
        self.axe = axe.read_text(encoding="utf-8")
        self.folder = folder
        self.violations: dict[str, list[dict[str, Any]]] = {}

    def settled(self) -> None:
        """Wait until no request of the page is pending (the view and its results are drawn)."""
        expect(self.page.locator("[aria-busy]")).to_have_count(0)

    def check(self, name: str) -> None:
        self.settled()
        self.page.screenshot(path=self.folder / f"{name}.png", full_page=True)
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.add_script_tag(content=self.axe)
        found = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))"""
        )
        if found:
            self.violations[name] = found

    def check_sizes(self, name: str) -> None:
        """:meth:`check` at 1280 pixels wide and on a phone (360), where nothing may scroll sideways."""
        self.check(name)
        size = self.page.viewport_size
        self.page.set_viewport_size({"width": 360, "height": 800})
        self.check(f"{name}-360")
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
            f"{name} scrolls sideways"
        )
        if size is not None:
            self.page.set_viewport_size(size)


def sign_in_as_citizen(page: Page, cpr: str) -> None:
    page.get_by_label("Borger", exact=True).select_option(cpr)
    page.get_by_role("button", name="Log ind som borger").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")


def sectors_shown(page: Page) -> set[str]:
    return {text.strip(" ·") for text in page.locator(".appointment .sector").all_inner_texts()}


def hans_uses_aftaler(page: Page, views: Views) -> None:
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Aftaler").click()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^Uge \d+"))).to_be_visible()
    views.check("aftaler-uge")
    expect(page.locator(".week .day")).to_have_count(7)

    page.get_by_label("Dag", exact=True).check()
    expect(page.locator(".week")).to_have_count(0)
    views.check("aftaler-dag")
    expect(page.locator(".results .day")).to_have_count(1)

    page.get_by_label("Liste", exact=True).check()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"\d+ aftaler$"))).to_be_visible()
    views.check("aftaler-liste")
    assert sectors_shown(page) >= {"Hospital", "Kommune", "Egen læge"}
    indicative = page.locator(".appointment.indicative").first
    expect(indicative).to_contain_text("Vejledende tidspunkt")
    expect(indicative.locator(".when")).to_contain_text("ca. kl.")

    page.get_by_label("Hospital", exact=True).uncheck()
    views.settled()
    page.get_by_label("Kommune", exact=True).uncheck()
    views.settled()
    assert sectors_shown(page) == {"Egen læge"}
    views.check("aftaler-liste-egen-laege")
    page.get_by_label("Hospital", exact=True).check()
    page.get_by_label("Kommune", exact=True).check()
    views.settled()

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Uge", exact=True).check()
    views.check("aftaler-uge-telefon")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    page.set_viewport_size({"width": 1280, "height": 900})


def hans_edits_his_phone(page: Page, views: Views, web: WebGateway) -> None:
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Stamkort").click()
    version = page.locator("#stamkort-version")
    expect(version).to_have_text(re.compile(r"^Version: \S+$"))
    before = version.inner_text()
    page.get_by_label("Telefonnummer").fill("22334455")
    page.get_by_role("button", name="Gem ændringer").click()
    expect(page.get_by_role("status").filter(has_text="Stamkortet er gemt")).to_be_visible()
    expect(version).not_to_have_text(before)
    views.check("stamkort")

    # Someone else changes the card meanwhile: the page shows their version and keeps Hans's typing.
    hans = web.token(actor_kind="citizen", cpr=HANS)
    current = web.graphql(CARD, hans, cpr=HANS)["data"]["patient"]["masterCard"]["version"]
    assert web.graphql(UPDATE, hans, cpr=HANS, version=current, changes={"dentist": "Tandklinikken Nord"})["data"]
    page.get_by_label("Telefonnummer").fill("22334466")
    page.get_by_role("button", name="Gem ændringer").click()
    conflict = page.get_by_role("region", name="Stamkortet er blevet ændret")
    expect(conflict).to_contain_text("Tandklinikken Nord")
    expect(page.get_by_label("Telefonnummer")).to_have_value("22334466")
    expect(page.get_by_label("Tandlæge")).to_have_value("Tandklinikken Nord")
    views.check("stamkort-konflikt")
    page.get_by_role("button", name="Gem ændringer").click()
    expect(page.get_by_role("status").filter(has_text="Stamkortet er gemt")).to_be_visible()
    card = web.graphql("query($cpr: CPR!) { patient(cpr: $cpr) { masterCard { phone dentist } } }", hans, cpr=HANS)
    assert card["data"]["patient"]["masterCard"] == {"phone": "22334466", "dentist": "Tandklinikken Nord"}


def hans_sets_and_lifts_a_block(page: Page, views: Views) -> None:
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Min Spærring").click()
    page.get_by_label("En sundhedsperson").check()
    page.get_by_label("Autorisations-ID").fill("X2P9K")
    page.get_by_role("button", name="Opret spærring").click()
    block = page.locator(".block").filter(has_text="X2P9K")
    expect(block).to_have_count(1)
    views.check("min-spaerring")
    block.get_by_role("button", name="Ophæv").click()
    dialog = page.get_by_role("dialog", name="Ophæv spærringen?")
    expect(dialog).to_be_visible()
    views.check("min-spaerring-ophaev")
    dialog.get_by_role("button", name="Ophæv spærringen").click()
    expect(block).to_have_count(0)


def graphql_bodies(page: Page) -> list[dict[str, Any]]:
    """Every body the page posts to /graphql from now on, as sent."""
    bodies: list[dict[str, Any]] = []

    def sent(request: Request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            bodies.append(request.post_data_json or {})

    page.on("request", sent)
    return bodies


def test_people_use_the_page(page: Page, web_gateway: WebGateway, axe_script: Path, artifacts: Path) -> None:
    views = Views(page, axe_script, artifacts)
    sent = graphql_bodies(page)
    try:
        walk_through(page, web_gateway, views)
    except Exception:
        page.screenshot(path=artifacts / "failure.png", full_page=True)
        raise
    assert views.violations == {}, f"axe-core found violations: {views.violations}"
    # The page's client runs only its trusted documents (the default), and the page sent every one by id.
    every = {"Me", "ActsFor", "Overview", "Appointments", "Plans", "MasterCard", "UpdateMasterCard", "AccessLog"}
    assert {body["operationName"] for body in sent} >= every | {"Blocks", "CreateBlock", "RevokeBlock"}
    assert [body for body in sent if "query" in body or not body.get("documentId", "").startswith("sha256:")] == []


def walk_through(page: Page, web_gateway: WebGateway, views: Views) -> None:
    page.goto(web_gateway.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log ind")
    views.check("log-ind")

    sign_in_as_citizen(page, HANS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overblik")
    expect(page.get_by_role("region", name="Egen læge")).to_contain_text("Lægerne Hasseris Bymidte")
    views.check("oversigt")
    hans_uses_aftaler(page, views)
    hans_edits_his_phone(page, views, web_gateway)
    hans_sets_and_lifts_a_block(page, views)
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Planer, mål og diagnoser").click()
    expect(page.get_by_role("region", name="Diagnoser")).to_contain_text("DN184")
    views.check("planer")
    sign_out(page)

    # Doctor CBDJ6 overrides Peter's blocks, as another client would.
    doctor = web_gateway.token(actor_kind="professional", authorization_id=DOCTOR_WITH_RELATIONS)
    override = {"ground": "NOT_CONTACTABLE", "reason": REASON}
    answer = web_gateway.graphql(OVERRIDE, doctor, cpr=PETER, override=override)
    assert answer["data"]["patient"]["appointments"]["withheld"] is False

    sign_in_as_citizen(page, PETER)
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Min Log").click()
    overridden = page.locator(".log-entry.override")
    expect(overridden.first).to_contain_text("Værdispring")
    expect(overridden.first).to_contain_text("Mette Test Larsen")
    expect(overridden.first).to_contain_text(REASON)
    expect(overridden.first).to_contain_text("Du kunne ikke kontaktes")
    views.check("min-log")
    sign_out(page)

    # A parent picks whom to act for: her daughter Ida (11).
    sign_in_as_citizen(page, MOTHER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvem vil du se?")
    views.check("vaelg-person")
    page.get_by_label(re.compile(r"^Ida Test Nielsen .*forældremyndighed, til og med")).check()
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.get_by_role("region", name="Person")).to_contain_text("Ida Test Nielsen")
    sign_out(page)

    page.get_by_label("Sundhedsperson", exact=True).select_option(DOCTOR_WITH_RELATIONS)
    page.get_by_role("button", name="Log ind som sundhedsperson").click()
    page.get_by_label("Patientens CPR-nummer").fill(PETER)
    page.get_by_role("button", name="Vis patient").click()
    expect(page.get_by_role("region", name="Person")).to_contain_text("Peter Test Mortensen")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Aftaler").click()
    page.get_by_label("Liste", exact=True).check()
    withheld = page.locator(".notice-blocked").filter(has_text="Tilbageholdt")
    expect(withheld).to_have_count(1)
    views.check("laege-aftaler-tilbageholdt")
    shown = page.locator(".appointment").count()

    withheld.get_by_role("button", name="Værdispring …").click()
    dialog = page.get_by_role("dialog", name="Værdispring")
    dialog.get_by_label("Patienten kan ikke kontaktes", exact=False).check()
    dialog.get_by_label("Begrundelse").fill("kort")
    dialog.get_by_role("button", name="Foretag værdispring").click()
    expect(dialog).to_contain_text("mellem 10 og 500 tegn")
    dialog.get_by_label("Begrundelse").fill(REASON)
    views.check("laege-vaerdispring")
    dialog.get_by_role("button", name="Foretag værdispring").click()
    expect(page.get_by_role("region", name="Værdispring")).to_contain_text(REASON)
    views.settled()
    expect(withheld).to_have_count(0)
    assert page.locator(".appointment").count() > shown
    views.check("laege-aftaler-vaerdispring")

    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Planer, mål og diagnoser").click()
    expect(page.get_by_role("region", name="Diagnoser")).to_contain_text("DN189")
    expect(page.locator(".notice-blocked")).to_have_count(0)
    views.check("laege-planer-vaerdispring")
