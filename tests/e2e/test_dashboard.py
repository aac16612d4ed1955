"""The dashboard end to end on `receivables local`: finance opens it in headless Chromium, and
its figures are the API's (aging, worklist, the day's emails); a screenshot is kept in build/screenshots/."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import REPO_ROOT
from tests.e2e.test_local_runtime import local
from tests.e2e.test_payments import _chromium, http, ingest, invoice, wait_for

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["local"]

Local = tuple[dict[str, Any], Any, "Path"]
ROWS = (
    "DB-1,2026-06-01,2026-07-01,EUR,C-DB1,Fjord Foods,ap@fjord.example,1200.00\n"
    "DB-2,2026-09-01,2026-10-01,EUR,C-DB2,Glacier Goods,ap@glacier.example,640.00\n"
    "DB-3,2026-11-01,2027-01-01,EUR,C-DB2,Glacier Goods,ap@glacier.example,75.50\n"
)


def api(connection: dict[str, Any], path: str, method: str = "GET") -> Any:
    status, _, body = http(
        connection["endpoints"]["api"] + path,
        b"{}" if method == "POST" else None,
        {"Authorization": f"Bearer {connection['api_token']}", "Content-Type": "application/json"},
        method,
    )
    assert status in (200, 201, 202), (path, status, body)
    return json.loads(body)


def eur(report: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in report["currencies"] if c["currency"] == "EUR"), None)


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium installed (make test installs Debian's chromium)"
)
def test_the_dashboard_shows_the_apis_figures(local: Local) -> None:
    from playwright.sync_api import sync_playwright

    connection, _, _ = local
    ingest(connection, "dashboard", ROWS)
    wait_for("the invoices", lambda: invoice(connection, "DB-3"))
    api(connection, "/dunning/sweep", "POST")  # ranks the worklist, writes today's snapshot

    def aggregated() -> dict[str, Any] | None:
        figures = eur(api(connection, "/reports/aging?currency=EUR"))
        return figures if figures and figures["invoices"] >= 3 else None

    figures: dict[str, Any] = wait_for("the aggregates", aggregated)
    worklist = api(connection, "/worklist?currency=EUR&limit=10")["worklist"]

    def emailed() -> dict[str, Any] | None:
        today = api(connection, "/dashboard?format=json")["activity"][-1]
        return today if today["emails"].get("invoice", 0) >= 3 else None

    counted: dict[str, Any] = wait_for("the invoice emails counted", emailed)

    shots = REPO_ROOT / "build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(
                extra_http_headers={"Authorization": f"Bearer {connection['api_token']}"},
                viewport={"width": 1280, "height": 900},
            )
            page.goto(connection["endpoints"]["api"] + "/dashboard")
            assert page.inner_text('[data-total="EUR"]') == figures["total"]
            for bucket, amount in figures["buckets"].items():
                assert page.inner_text(f'[data-bucket="EUR:{bucket}"]') == amount
            rows = page.locator('[data-testid="worklist"] tr').count() - 1
            numbers = [w["number"] for w in worklist if w["number"].startswith("DB-")]
            assert rows >= len(numbers) >= 2
            for number in numbers:
                assert number in page.inner_text('[data-testid="worklist"]')
            today = page.locator('[data-testid="activity"] tr').nth(1).locator("td").all_inner_texts()
            assert today[0] == counted["date"]
            later = api(connection, "/dashboard?format=json")["activity"][-1]["emails"]["invoice"]
            assert counted["emails"]["invoice"] <= int(today[1]) <= later
            page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert (shots / "dashboard.png").stat().st_size > 10_000
