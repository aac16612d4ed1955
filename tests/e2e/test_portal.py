"""The customer portal end to end on `receivables local`, as a payer drives it in headless
Chromium: the account link of the invoice email, the open invoices (and nobody else's), the
language switch, the statement, signing out. A screenshot is kept in build/screenshots/."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.test_local_runtime import local
from tests.e2e.test_payments import _chromium, emailed_link, ingest, invoice, state, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

ROWS = (
    "PT-1,2026-09-01,2026-10-01,EUR,C-PT1,Pinewood Cafe,ap@pinewood.example,1200.00\n"
    "PT-2,2026-10-20,2099-11-19,EUR,C-PT1,Pinewood Cafe,ap@pinewood.example,80.50\n"
    "PT-3,2026-10-01,2026-10-31,EUR,C-PT9,Quartz Labs,ap@quartz.example,999.00\n"
)


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_a_payer_opens_the_emailed_link_and_sees_their_account(
    local: tuple[dict[str, Any], Any, Path],
) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    ingest(connection, "portal", ROWS)
    wait_for("the invoices", lambda: invoice(connection, "PT-3"))
    link = emailed_link(connection, "PT-2", "portal/link")

    shots = REPO_ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(link)
            assert page.url.endswith("/portal#inv-" + page.url.rsplit("#inv-", 1)[-1])
            rows = page.locator("#open-invoices tr[data-invoice]")
            assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.invoice)")) == ["PT-1", "PT-2"]
            assert "Quartz" not in page.content() and "PT-3" not in page.content()
            assert page.locator('[data-invoice="PT-2"] [data-amount]').get_attribute("data-amount") == "80.50"
            page.screenshot(path=str(shots / "portal.png"), full_page=True)
            pdf_url = page.url.split("/portal", 1)[0] + (
                page.locator('[data-invoice="PT-1"] a[href$="/pdf"]').get_attribute("href") or ""
            )
            pdf = page.request.get(pdf_url)
            assert pdf.status == 200 and pdf.body().startswith(b"%PDF"), pdf.status

            page.select_option("#language", "de")
            page.click("text=Change")
            assert page.inner_text("h2 >> nth=0") == "Offene Rechnungen"
            assert "1.200,00" in page.inner_text("#open-invoices")

            page.fill("#from", "2026-01-01")
            page.fill("#to", "2026-12-31")
            page.click("text=Anzeigen")
            assert page.locator("[data-closing]").get_attribute("data-closing") == "1280.50"

            page.goto(page.url.split("/portal", 1)[0] + "/portal")
            page.click("#sign-out")
            assert "abgemeldet" in page.inner_text("#title")
            again = page.goto(page.url.split("/portal", 1)[0] + "/portal")
            assert again is not None and again.status == 401
        finally:
            browser.close()


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_a_payer_pays_two_invoices_in_one_checkout(local: tuple[dict[str, Any], Any, Path]) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    rows = (
        "PM-1,2026-09-01,2026-10-01,EUR,C-PM1,Maple Bakery,ap@maple.example,120.00\n"
        "PM-2,2026-10-01,2026-10-31,EUR,C-PM1,Maple Bakery,ap@maple.example,30.25\n"
    )
    ingest(connection, "portal-pay", rows)
    link = emailed_link(connection, "PM-1", "portal/link")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(link)
            page.check('[data-invoice="PM-1"] input[name="invoice"]')
            page.check('[data-invoice="PM-2"] input[name="invoice"]')
            page.click("#pay-card")
            page.wait_for_url(re.compile(r".*/checkout/.*|.*/c/pay/.*"))
            assert "150.25" in page.content(), "one checkout for both balances"
            page.fill("#cardnumber", "4242 4242 4242 4242")
            page.fill("#exp", "12/34")
            page.fill("#cvc", "123")
            page.fill("#name", "M. Baker")
            page.click("#pay")
            page.wait_for_url(re.compile(r".*/portal\?paid=1"))
            assert page.locator("#paid-notice").count() == 1
        finally:
            browser.close()
    for number in ("PM-1", "PM-2"):
        wait_for(f"{number} to be paid", lambda n=number: state(connection, n) == ("paid", "0"))  # type: ignore[misc]
