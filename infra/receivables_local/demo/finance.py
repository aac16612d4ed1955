"""The demo's last chapter: what finance sees after all that, through the finance API.

The aging report per currency (from the aggregates the table's stream keeps), the KPIs with
the reason for any that cannot be computed yet, and the dashboard opened in headless Chromium,
its screenshot written to build/screenshots/dashboard.png (or, with no Chromium, the page
itself written beside it, and why). Then the finance console: its address and the users to sign
in with, and (with Chromium) the collector signed in through the local managed login, with
screenshots of the console's dashboard, worklist and a customer's page.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any, TextIO

from receivables_local.demo.helpers import http
from receivables_local.functions import REPO_ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from receivables_local.runtime import LocalRuntime

SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
KPI_LABELS = {
    "dso_standard": "DSO",
    "dso_countback": "DSO countback",
    "best_possible_dso": "best possible DSO",
    "average_days_delinquent": "ADD",
    "cei": "CEI %",
    "overdue_ratio": "overdue %",
    "dispute_rate": "dispute rate %",
}


def finance_chapter(runtime: LocalRuntime, out: TextIO, number: int = 11) -> Path:
    """Print the aging report and the KPIs, write the dashboard's screenshot; returns its path."""
    api = runtime.api_endpoint or ""
    headers = {"Authorization": f"Bearer {runtime.connection['api_token']}"}

    def get(path: str) -> Any:
        status, _, body = http(api + path, None, headers)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:200]}")
        return json.loads(body)

    runtime.settle()
    aging = get("/reports/aging")
    print(
        f"\n{number}. What finance sees (GET /reports/aging, /kpis, /dashboard), as of {aging['as_of']}:",
        file=out,
    )
    print(f"   {'':8}{'open':>14}{'current':>14}{'1-30':>12}{'31-60':>12}{'61-90':>12}{'90+':>12}", file=out)
    for currency in aging["currencies"]:
        buckets = currency["buckets"]
        print(
            f"   {currency['currency']:8}{currency['total']:>14}{buckets['current']:>14}{buckets['1-30']:>12}"
            f"{buckets['31-60']:>12}{buckets['61-90']:>12}{buckets['90+']:>12}",
            file=out,
        )
    print(
        f"   (the report read {aging['items_read']} aggregate items, whatever the number of invoices)",
        file=out,
    )

    for currency in get("/kpis")["currencies"]:
        figures = ", ".join(
            f"{label} {currency[name]}"
            for name, label in KPI_LABELS.items()
            if currency.get(name) is not None
        )
        missing = "; ".join(f"{KPI_LABELS[n]}: {why}" for n, why in currency["missing"].items())
        print(f"   KPIs {currency['currency']} (30 days): {figures or 'none yet'}", file=out)
        if missing:
            print(f"      not yet: {missing}", file=out)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "dashboard.png"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        _, _, html = http(api + "/dashboard", None, headers)
        shot = SCREENSHOTS / "dashboard.html"
        shot.write_text(html)
        print(f"   no Chromium here (make test installs it): the dashboard page is in {shot}", file=out)
        return shot
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(extra_http_headers=headers, viewport={"width": 1280, "height": 900})
            page.goto(api + "/dashboard")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    print(f"   the dashboard, as finance sees it in a browser: {shot}", file=out)
    console_tour(runtime, out, chromium)
    return shot


def console_tour(runtime: LocalRuntime, out: TextIO, chromium: str) -> list[Path]:
    """Print where the console is and who may sign in; sign in as the collector and keep a
    screenshot of the dashboard, the worklist and the first customer on it."""
    users = runtime.connection["console_users"]
    print(f"   the finance console: {runtime.console_url}  (sign in as one of these)", file=out)
    for user in users:
        print(f"      {user['role']:<11}{user['username']}   password {user['password']}", file=out)
    (collector,) = [u for u in users if u["role"] == "collector"]
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(runtime.console_url)
            page.fill("#username", collector["username"])
            page.fill("#password", collector["password"])
            page.click("#sign-in")
            for name, path in (("dashboard", ""), ("worklist", "/worklist")):
                page.goto(runtime.console_url + path)
                shots.append(SCREENSHOTS / f"console-{name}.png")
                page.screenshot(path=str(shots[-1]), full_page=True)
            customers = page.locator("#worklist a.customer")
            if customers.count():
                customers.first.click()
                shots.append(SCREENSHOTS / "console-customer.png")
                page.screenshot(path=str(shots[-1]), full_page=True)
        finally:
            browser.close()
    print(f"   the console, as the collector sees it: {', '.join(str(s) for s in shots)}", file=out)
    return shots
