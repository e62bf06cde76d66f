#!/usr/bin/env python3
"""Browser test of the Kinko web console (`kinko serve`), checked against the JSON API.

Drives headless Chromium through Selenium (Debian's chromium + chromium-driver) and, for the same
token, compares every figure the overview shows with what /v1 returns.

Usage:
    console_test.py --base-url http://127.0.0.1:8080 --token ADMIN_TOKEN [--tokens-file demo-tokens.json]
                    [--lower-token TOKEN] [--screenshots DIR]
Environment (used when an option is absent): KINKO_BASE_URL, KINKO_TOKEN, KINKO_TOKENS_FILE,
KINKO_LOWER_TOKEN, KINKO_E2E_SCREENSHOTS, CHROMIUM_BIN (/usr/bin/chromium),
CHROMEDRIVER (/usr/bin/chromedriver).

Exits 0 when every check passes, 1 on the first mismatch (the message names the figure), 2 on a
usage or setup error.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

BAD_TOKEN = "kinko_" + "0" * 64
# Roles tried, in order, for the "lower role" check when only a tokens file is given.
LOWER_ROLES = ("signer", "operator", "treasurer", "finance", "administrator", "auditor", "inspector", "compliance")


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# ---------------------------------------------------------------- API side (urllib only)

class API:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token

    def get(self, path):
        """(status, parsed JSON or None)."""
        return self.send(urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"}))

    def post(self, path, body):
        """(status, parsed JSON or None) of a JSON POST."""
        return self.send(urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Accept": "application/json"}))

    @staticmethod
    def send(request):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                return error.code, json.loads(body)
            except ValueError:
                return error.code, None

    def must(self, path):
        status, body = self.get(path)
        check(status == 200, f"API GET {path} answered {status}: {body}")
        return body

    def allowed(self, path):
        status, body = self.get(path)
        check(status in (200, 403), f"API GET {path} answered {status} (expected 200 or 403): {body}")
        return status == 200

    def audit_entries(self):
        entries, start = [], 0
        while True:
            page = self.must(f"/v1/audit/entries?from={start}&limit=1000")
            entries += page["entries"]
            if not page["entries"] or len(entries) >= page["size"]:
                return entries
            start = page["entries"][-1]["index"] + 1


def expected_figures(api):
    """What the overview should show for this token, from the API alone. Panels the token may not
    read are None."""
    figures = {}
    # Liability reserve: the last adequacy point.
    if api.allowed("/v1/reserve/adequacy"):
        points = api.must("/v1/reserve/adequacy")["points"]
        figures["reserve"] = {"required": points[-1]["required"], "funded": points[-1]["funded"]} if points else {}
    else:
        figures["reserve"] = None
    # Custody: hot share per asset (percent with two decimals, or n/a without a price).
    if api.allowed("/v1/custody/check"):
        check_ = api.must("/v1/custody/check")
        figures["custody"] = {a["asset"]: (a["hot_share"] + "%") if a.get("hot_share") is not None else "n/a" for a in check_["assets"]}
    else:
        figures["custody"] = None
    # Monitoring: open alerts.
    if api.allowed("/v1/monitoring/alerts?status=open&limit=1000"):
        alerts = api.must("/v1/monitoring/alerts?status=open&limit=1000")["alerts"]
        check(all(a["status"] == "open" for a in alerts), "API /v1/monitoring/alerts?status=open returned alerts that are not open")
        figures["open_alerts"] = len(alerts)
    else:
        figures["open_alerts"] = None
    # Incidents: total from /v1/incidents; open = not yet paid. The Incident schema has no paid_at,
    # so unless the API grows one, "paid" comes from the audit log's incident.pay/paid entries.
    if api.allowed("/v1/incidents"):
        incidents = api.must("/v1/incidents")["incidents"]
        figures["incidents_total"] = len(incidents)
        if incidents and all("paid_at" in i for i in incidents):
            figures["open_incidents"] = sum(1 for i in incidents if i.get("paid_at") in (None, ""))
        elif api.allowed("/v1/audit/verify"):
            paid = {e.get("details", {}).get("incident") for e in api.audit_entries() if e["action"] == "incident.pay" and e["result"] == "paid"}
            figures["open_incidents"] = sum(1 for i in incidents if str(i["id"]) not in paid)
        else:
            figures["open_incidents"] = "unknown"
    else:
        figures["incidents_total"] = figures["open_incidents"] = None
    # Last reconciliation: the API has no list, so the day comes from the audit log (custody.reconcile
    # entries) and is then fetched from /v1/custody/reconciliations/{day}.
    figures["reconciliation"] = "unknown"
    if figures["custody"] is not None and api.allowed("/v1/audit/verify"):
        days = sorted(e["details"]["day"] for e in api.audit_entries()
                      if e["action"] == "custody.reconcile" and e["result"] != "forbidden" and "day" in e.get("details", {}))
        if days:
            day = days[-1]
            body = api.must(f"/v1/custody/reconciliations/{day}")
            check(body["day"] == day, f"API reconciliation for {day} names day {body['day']}")
            figures["reconciliation"] = {"day": day, "clean": body["clean"]}
        else:
            figures["reconciliation"] = {}
    return figures


# ---------------------------------------------------------------- browser side

def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1600",
                 "--disable-extensions", "--no-first-run", "--lang=ja"):
        options.add_argument(flag)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


def replaced(element):
    """A wait condition: `element` no longer belongs to the page. Selenium's staleness_of
    expects StaleElementReferenceException, but Chromium sometimes answers "Node with given id
    does not belong to the document" (an unknown error) for a node of a replaced document — the
    flake seen at sign-out. Both mean the same here."""
    def predicate(_driver):
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
    return predicate


class Console:
    def __init__(self, driver, base, screenshots):
        self.driver = driver
        self.base = base.rstrip("/")
        self.screenshots = screenshots
        self.shots = 0

    def path(self):
        return urllib.parse.urlparse(self.driver.current_url).path

    def open(self, path):
        self.driver.get(self.base + path)

    def wait_path(self, path, what):
        try:
            WebDriverWait(self.driver, 20).until(lambda d: urllib.parse.urlparse(d.current_url).path == path)
        except Exception:
            raise Failure(f"{what}: expected to be on {path}, but the browser is on {self.driver.current_url}")

    def find(self, selector):
        try:
            return self.driver.find_element(By.CSS_SELECTOR, selector)
        except NoSuchElementException:
            return None

    def text(self, selector, what):
        element = self.find(selector)
        check(element is not None, f"{what}: no element {selector!r} on {self.path()}")
        return element.text.strip()

    def section(self, title_part):
        """The overview card whose heading contains title_part, or None."""
        for section in self.driver.find_elements(By.CSS_SELECTOR, "main section"):
            headings = section.find_elements(By.TAG_NAME, "h2")
            if headings and title_part in headings[0].text:
                return section
        return None

    def sign_in(self, token):
        self.open("/console/login")
        field = self.find("input#token")
        check(field is not None, "sign-in page: no input#token")
        field.clear()
        field.send_keys(token)
        check(self.find("#sign-in") is not None, "sign-in page: no #sign-in button")
        self.submit(None, "#sign-in")

    def submit(self, button, selector=None):
        """Clicks a submitting button and waits until the next page has replaced this one. With a
        selector, a button that went stale before the click (the page was still being replaced:
        "Node with given id does not belong to the document") is found again and clicked again."""
        for attempt in range(3):
            WebDriverWait(self.driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
            old = self.driver.find_element(By.TAG_NAME, "html")
            try:
                if attempt > 0 or button is None:
                    button = WebDriverWait(self.driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(
                        EC.element_to_be_clickable((By.CSS_SELECTOR, selector)))
                button.click()
            except (StaleElementReferenceException, WebDriverException) as error:
                if selector is None or attempt == 2 or not (isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)):
                    raise
                continue
            WebDriverWait(self.driver, 20).until(replaced(old))
            WebDriverWait(self.driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
            return

    def sign_out(self):
        selector = "#sign-out"
        check(self.find(selector) is not None, f"no sign-out button on {self.path()}")
        self.submit(None, selector)

    def cookie(self):
        return self.driver.get_cookie("kinko_session")

    def screenshot(self, name):
        if not self.screenshots:
            return
        os.makedirs(self.screenshots, exist_ok=True)
        self.shots += 1
        self.driver.save_screenshot(os.path.join(self.screenshots, f"{self.shots:02d}-{name}.png"))


def number(text):
    """'¥2,500,000' -> '2500000'."""
    return re.sub(r"[¥,\s]", "", text)


def compare_overview(console, expected, who):
    """Compares every overview figure with the API's; returns what was compared (for the log)."""
    compared = []
    # Liability reserve
    reserve_section = console.section("Liability reserve")
    if expected["reserve"] is None:
        check(reserve_section is None, f"{who}: the liability reserve panel is shown, but the API refuses /v1/reserve/adequacy for this token")
    else:
        check(reserve_section is not None, f"{who}: no liability reserve panel, but the API allows /v1/reserve/adequacy")
        if expected["reserve"]:
            for figure in ("required", "funded"):
                shown = number(console.text(f"#reserve-{figure}", f"{who}: reserve {figure}"))
                check(shown == expected["reserve"][figure],
                      f"{who}: figure 'reserve {figure}' mismatch: console shows {shown}, API /v1/reserve/adequacy last point says {expected['reserve'][figure]}")
                compared.append(f"reserve {figure}={shown}")
        else:
            check(console.find("#reserve-required") is None, f"{who}: console shows a reserve requirement, but the API has no adequacy point")
    # Custody: hot share per asset
    if expected["custody"] is None:
        check(console.section("Custody") is None and not console.driver.find_elements(By.CSS_SELECTOR, "td.hot-share"),
              f"{who}: the custody panel is shown, but the API refuses /v1/custody/check for this token")
    else:
        cells = console.driver.find_elements(By.CSS_SELECTOR, "td.hot-share[data-asset]")
        shown = {cell.get_attribute("data-asset"): cell.text.strip() for cell in cells}
        check(set(shown) == set(expected["custody"]),
              f"{who}: figure 'hot share' assets differ: console {sorted(shown)}, API /v1/custody/check {sorted(expected['custody'])}")
        for asset, share in expected["custody"].items():
            check(shown[asset] == share, f"{who}: figure 'hot share {asset}' mismatch: console shows {shown[asset]}, API /v1/custody/check says {share}")
            compared.append(f"hot share {asset}={shown[asset]}")
        # Last reconciliation
        recon = expected["reconciliation"]
        if recon == "unknown":
            print(f"  note: {who}: last reconciliation not checked (the token may not read the audit log, and the API lists no reconciliations)")
        elif not recon:
            check(console.find("#last-reconciliation") is None, f"{who}: console shows a last reconciliation, but the API knows none")
        else:
            day = console.text("#last-reconciliation", f"{who}: last reconciliation")
            check(day == recon["day"], f"{who}: figure 'last reconciliation day' mismatch: console shows {day}, API (audit log + /v1/custody/reconciliations) says {recon['day']}")
            paragraph = console.driver.find_element(By.CSS_SELECTOR, "#last-reconciliation").find_element(By.XPATH, "..").text
            shown_clean = "clean" in paragraph
            check(shown_clean == recon["clean"],
                  f"{who}: figure 'last reconciliation clean' mismatch: console says {'clean' if shown_clean else 'breaks'} ({paragraph!r}), API clean={recon['clean']}")
            compared.append(f"last reconciliation={day} clean={shown_clean}")
    # Monitoring: open alerts
    if expected["open_alerts"] is None:
        check(console.find("#open-alerts") is None and console.section("Monitoring") is None,
              f"{who}: the monitoring panel (open alerts) is shown, but the API refuses /v1/monitoring/alerts for this token")
    else:
        shown = int(console.text("#open-alerts", f"{who}: open alerts"))
        if expected["open_alerts"] >= 1000:
            check(shown >= 1000, f"{who}: figure 'open alerts' mismatch: console shows {shown}, API lists at least 1000")
        else:
            check(shown == expected["open_alerts"],
                  f"{who}: figure 'open alerts' mismatch: console shows {shown}, API /v1/monitoring/alerts?status=open lists {expected['open_alerts']}")
        compared.append(f"open alerts={shown}")
    # Incidents
    if expected["incidents_total"] is None:
        check(console.find("#open-incidents") is None, f"{who}: the incidents panel is shown, but the API refuses /v1/incidents for this token")
    else:
        shown_open = int(console.text("#open-incidents", f"{who}: open incidents"))
        paragraph = console.driver.find_element(By.CSS_SELECTOR, "#open-incidents").find_element(By.XPATH, "..").text
        total = re.search(r"of (\d+)", paragraph)
        check(total is not None, f"{who}: incidents panel has no 'of N' total: {paragraph!r}")
        check(int(total.group(1)) == expected["incidents_total"],
              f"{who}: figure 'incidents total' mismatch: console shows {total.group(1)}, API /v1/incidents lists {expected['incidents_total']}")
        if expected["open_incidents"] == "unknown":
            print(f"  note: {who}: open incidents not checked (no paid_at in the API and the token may not read the audit log)")
        else:
            check(shown_open == expected["open_incidents"],
                  f"{who}: figure 'open incidents' mismatch: console shows {shown_open}, API (/v1/incidents less audited incident.pay=paid) says {expected['open_incidents']}")
        compared.append(f"open incidents={shown_open} of {total.group(1)}")
    return compared


def wait_for(driver, condition, what, timeout=20):
    """Waits until condition(driver) is truthy (re-finding elements each time, so a page that
    re-renders cannot leave a stale node behind); returns its value."""
    try:
        return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)
    except TimeoutException:
        raise Failure(f"{what}: still not the case after {timeout}s on {driver.current_url}")


def approve_in_browser(console, base, tokens, kinko_bin, database, demo_dir):
    """Finance approves, in Chromium, a transfer treasury parked: the browser makes a P-256 key
    with WebCrypto (non-extractable, in IndexedDB) and registers it with proof of possession; the
    second admin activates it (with the CLI and their own key file, as they would); the page shows
    the request in words and figures; the signature over the digest counts; a second approval by
    the same person is refused. Returns what was checked."""
    driver = console.driver
    finance_api, treasurer_api = API(base, tokens["finance"]), API(base, tokens["treasurer"])
    finance = finance_api.must("/v1/whoami")["name"]
    own = finance_api.must("/v1/ledger/balances?asset=JPY&class=own_funds")["accounts"][0]["id"]
    reserve = finance_api.must("/v1/ledger/balances?asset=JPY&class=reserve_fund")["accounts"][0]["id"]
    transfer = str(int(time.time() * 1000))
    status, body = treasurer_api.post("/v1/ledger/transfers", {"transfers": [
        {"id": transfer, "debit_account_id": own, "credit_account_id": reserve, "amount": "12345", "asset": "JPY", "code": "reserve_funding"}]})
    check(status == 200 and body["results"][0]["result"] == "pending_approval", f"treasury's reserve funding was not parked: {status} {body}")
    parked = [p for p in treasurer_api.must("/v1/ledger/parked?status=awaiting_approval")["parked"] if p["transfer"] == transfer]
    check(len(parked) == 1, f"no parked record for transfer {transfer}")
    request = parked[0]["request"]

    console.sign_in(tokens["finance"])
    console.wait_path("/console", "signing in as finance")
    console.open("/console/approvals")
    wait_for(driver, lambda d: d.find_element(By.ID, "key-status").get_attribute("data-key") is not None
             and "checking" not in d.find_element(By.ID, "key-status").text, "the page reads this browser's key store")
    check(driver.find_element(By.ID, "key-status").get_attribute("data-key") == "", "a fresh browser already holds a key")
    driver.find_element(By.ID, "create-key").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "approval-message").get_attribute("data-state") in ("ok", "error"), "registering the browser key")
    message = driver.find_element(By.ID, "approval-message")
    check(message.get_attribute("data-state") == "ok", f"registering the browser key failed: {message.text!r}")
    key_id = driver.find_element(By.ID, "key-status").get_attribute("data-key")
    check(bool(key_id), "no key id after registering")
    keys = [k for k in finance_api.must("/v1/governance/keys")["keys"] if k["id"] == key_id]
    check(len(keys) == 1 and keys[0]["principal"] == finance and keys[0]["algorithm"] == "p256" and keys[0]["status"] == "awaiting_approval",
          f"the API does not list key {key_id} as {finance}'s p256 key awaiting approval: {keys}")
    console.screenshot("browser-key-registered")

    # The second admin activates the key with their own key file (the CLI, on the same database).
    second = "nakamura.admin"
    with open(os.path.join(demo_dir, "demo-keys", f"{second}.token")) as f:
        second_token = f.read().strip()
    approval = subprocess.run([kinko_bin, "governance", "approve", keys[0]["request"], "--key-file", os.path.join(demo_dir, "demo-keys", f"{second}.key"),
                               "--token", second_token, "--database", database], capture_output=True, text=True, timeout=120)
    check(approval.returncode == 0, f"{second} could not approve key {key_id}: {approval.stdout} {approval.stderr}")
    check([k["status"] for k in finance_api.must("/v1/governance/keys")["keys"] if k["id"] == key_id] == ["active"], f"key {key_id} is not active after {second} approved")

    console.open("/console/approvals")
    wait_for(driver, lambda d: d.find_element(By.ID, "key-status").get_attribute("data-status") == "active", "the page shows the browser key active")
    card = wait_for(driver, lambda d: d.find_element(By.ID, f"request-{request}"), f"request {request} is listed as waiting for {finance}")
    what = card.find_element(By.CSS_SELECTOR, "p.what").text
    check("reserve_funding" in what and "12345 JPY" in what and own in what and reserve in what and "own_funds" in what and "reserve_fund" in what,
          f"request {request} is not described in words and figures: {what!r}")
    api_request = finance_api.must(f"/v1/governance/approvals/{request}")
    digest = card.find_element(By.CSS_SELECTOR, "code.digest").text
    check(digest == api_request["digest"], f"the page shows digest {digest}, the API {api_request['digest']}")
    console.screenshot("approval-card")

    def approve_once():
        driver.execute_script("document.getElementById('approval-message').dataset.state = ''")
        wait_for(driver, lambda d: d.find_element(By.ID, f"request-{request}").find_element(By.CSS_SELECTOR, "button.approve"), "the approve button").click()
        wait_for(driver, lambda d: d.find_element(By.ID, "approval-message").get_attribute("data-state") in ("ok", "error"), f"approving request {request}")
        element = driver.find_element(By.ID, "approval-message")
        return element.get_attribute("data-state"), element.text

    state, text = approve_once()
    check(state == "ok", f"the browser approval of request {request} failed: {text!r}")
    after = finance_api.must(f"/v1/governance/approvals/{request}")
    check(after["approvals"] == [finance] and after["satisfied"], f"after the browser approval the API shows approvals {after['approvals']}, satisfied={after['satisfied']}")
    state, again = approve_once()
    check(state == "error" and "already approved" in again, f"a second approval by {finance} was not refused: {state} {again!r}")
    check(finance_api.must(f"/v1/governance/approvals/{request}")["approvals"] == [finance], "the second approval was recorded")
    console.screenshot("approval-refused-second-time")
    console.open("/console")
    console.sign_out()
    console.wait_path("/console/login", "finance sign-out after approving")
    return f"key {key_id} made in the browser, activated by {second}; request {request} ({what}) approved; the second approval refused: {again!r}"


def read_tokens(path):
    """role -> token from demo-tokens.json (also {"tokens": {...}} or a list of {"role", "token"})."""
    with open(path) as f:
        tokens = json.load(f)
    if isinstance(tokens, dict) and isinstance(tokens.get("tokens"), (dict, list)):
        tokens = tokens["tokens"]
    if isinstance(tokens, list):
        tokens = {t.get("role") or t.get("name"): t["token"] for t in tokens if isinstance(t, dict) and "token" in t}
    return tokens


AMOUNT = re.compile(r"^-?[\d,]+(\.\d+)? [A-Z][A-Z0-9]{1,9}$")
LONG_ID = re.compile(r"\d{21,}")


# axe-core (Deque, MPL-2.0), the accessibility engine browsers' audits use, as shipped inside the
# axe-playwright-python wheel (installed with --no-deps by setup.sh; only its axe.min.js is used).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source():
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or not spec.submodule_search_locations:
        raise Failure("axe-core is not installed (Tests/e2e/setup.sh installs axe-playwright-python)")
    return (pathlib.Path(list(spec.submodule_search_locations)[0]) / "axe.min.js").read_text()


def axe_violations(driver, source):
    """The page's WCAG 2.2 A/AA violations as axe-core finds them: [(rule, impact, nodes, first node)]."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(source)
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done({passes: r.passes.length, violations: r.violations.map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].html.slice(0, 200)])}))"
        ".catch(e => done({error: String(e)}));", AXE_TAGS)
    if "error" in result:
        raise Failure(f"axe-core failed on {driver.current_url}: {result['error']}")
    check(result["passes"] > 0, f"axe-core checked nothing on {driver.current_url}")
    return result["violations"]


# What axe-core's rules look at: each element's tag, classes, role, type and attribute names, and
# whether it holds text of its own (values such as amounts and names do not change a verdict).
# Two pages with the same structure get the same verdict, so the tour audits each structure once.
STRUCTURE_SCRIPT = """
const parts = [];
for (const e of document.querySelectorAll('html, html *')) {
  const names = Array.from(e.attributes, (a) => a.name).sort().join(',');
  const ownText = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
  parts.push([e.tagName, e.getAttribute('class') || '', e.getAttribute('role') || '', e.getAttribute('type') || '', names, ownText ? 't' : ''].join('|'));
}
return parts.join('\\n');
"""


def page_structure(driver):
    return hashlib.sha256(driver.execute_script(STRUCTURE_SCRIPT).encode()).hexdigest()


def drill_down(console, base, token):
    """As compliance: the overview's charts over time, an alert's money flows drawn as a graph,
    and the market-alert filters, each page audited by axe-core."""
    driver = console.driver
    api = API(base, token)
    source = axe_source()
    console.sign_in(token)
    console.wait_path("/console", "compliance: signing in for the drill-down")
    for chart in ("hot-share-chart", "alert-volume-chart"):
        element = console.find(f"#{chart}")
        check(element is not None, f"compliance overview: no #{chart}")
        check(len(element.get_attribute("aria-label") or "") > 20, f"compliance overview: #{chart} has no description for screen readers")
    alerts = api.must("/v1/monitoring/alerts?limit=1000")["alerts"]
    ring = next((a for a in alerts if any(h["rule"] == "cycle" for h in a["hits"])), None)
    check(ring is not None, "the demo raised no cycle alert")
    members = next(h for h in ring["hits"] if h["rule"] == "cycle")["customers"]
    console.open(f"/console/alert?id={ring['id']}")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "flow-chart"))
    shown = sorted(n.get_attribute("data-customer") for n in driver.find_elements(By.CSS_SELECTOR, "#flow-chart g.flow-node"))
    check(shown == sorted(members), f"alert {ring['id']}: the flow picture shows customers {shown}, the alert names {members}")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#flow-chart line.flow")) == len(members), f"alert {ring['id']}: not one arrow per transfer of the ring")
    console.screenshot("alert-flows")
    violations = axe_violations(driver, source)
    check(not violations, f"alert {ring['id']}: axe-core finds {violations}")
    console.open("/console/surveillance")
    Select(console.find("#market-typology-filter")).select_by_value("spoofing")
    console.submit(None, "#market-alert-filter")
    WebDriverWait(driver, 20).until(lambda d: "typology=spoofing" in d.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.market-alert")
    check(rows and all(r.get_attribute("data-typology") == "spoofing" for r in rows), "the spoofing filter shows other typologies, or nothing")
    check(all(re.search(r"\(\d+\)", r.find_element(By.CSS_SELECTOR, "td.market-customers").text) for r in rows),
          "market alerts do not name their customers")
    Select(console.find("#market-typology-filter")).select_by_value("wash_trade")
    console.submit(None, "#market-alert-filter")
    WebDriverWait(driver, 20).until(lambda d: "typology=wash_trade" in d.current_url)
    check(console.find("#no-market-alerts") is not None, "an empty market-alert filter does not say so")
    console.sign_out()
    console.wait_path("/console/login", "compliance sign-out after the drill-down")
    return f"alert {ring['id']} draws its ring of {len(members)} customers; charts described; market filters work; axe-core clean"


def tour_every_page(console, tokens):
    """Signs in as every role, in Japanese, visits every page its navigation offers, takes a
    screenshot of each and checks what a reader sees: no id longer than 20 digits, no template
    or language marker left over, one language (the page says lang=ja), and every balance an
    amount with its unit."""
    driver = console.driver
    source = axe_source()
    console.open("/console/language?to=ja&back=%2Fconsole%2Flogin")
    violations = axe_violations(driver, source)
    check(not violations, f"the sign-in page: axe-core finds {violations}")
    pages_seen = 0
    audited = {}  # page structure -> the first page with it, which axe-core audited
    for role, token in sorted(tokens.items()):
        console.sign_in(token)
        console.wait_path("/console", f"{role}: signing in for the page tour")
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "nav .links a")]
        for link in links:
            path = urllib.parse.urlparse(link).path
            console.open(path)
            WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
            where = f"{role} {path}"
            check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja", f"{where}: not in Japanese")
            text = driver.find_element(By.TAG_NAME, "body").text
            # An approval card is the document a signer signs: its sentence, payload and canonical
            # JSON show every id verbatim, by design (what is read is what is signed).
            readable = driver.execute_script(
                "const b = document.body.cloneNode(true); b.querySelectorAll('section.request').forEach((e) => e.remove()); return b.textContent;")
            long_id = LONG_ID.search(readable)
            check(long_id is None, f"{where}: shows an id longer than 20 digits: {long_id.group(0) if long_id else ''}")
            for leftover in ("[[", "]]", "{{", "}}", "\ue000", "\ue001", "\ue002"):
                check(leftover not in text, f"{where}: shows {leftover!r}, a template or language marker")
            check("Sign out" not in text and "ログアウト" in text, f"{where}: the navigation is not in Japanese alone")
            for cell in driver.find_elements(By.CSS_SELECTOR, "#balances td.n"):
                check(AMOUNT.match(cell.text.strip()) is not None, f"{where}: balance {cell.text!r} is not an amount with its unit")
            console.screenshot(f"tour-{role}-{path.strip('/').replace('/', '-') or 'console'}")
            structure = page_structure(driver)
            if structure not in audited:
                violations = axe_violations(driver, source)
                check(not violations, f"{where}: axe-core finds WCAG 2.2 A/AA violations: {violations}")
                audited[structure] = where
            pages_seen += 1
        console.sign_out()
        console.wait_path("/console/login", f"{role}: sign-out after the page tour")
    return pages_seen, len(audited)


def pick_lower_token(base, args):
    if args.lower_token:
        return "given", args.lower_token
    if not args.tokens_file:
        return None, None
    tokens = read_tokens(args.tokens_file)
    # Prefer a role the API refuses monitoring to, so the test shows a panel being hidden.
    for role in LOWER_ROLES:
        token = tokens.get(role)
        if token and API(base, token).get("/v1/monitoring/alerts?limit=1")[0] == 403:
            return role, token
    for role in LOWER_ROLES:
        if tokens.get(role):
            return role, tokens[role]
    return None, None


def run(args):
    base = args.base_url.rstrip("/")
    admin_api = API(base, args.token)
    status, me = admin_api.get("/v1/whoami")
    if status != 200:
        print(f"setup: GET /v1/whoami with the given token answered {status}: {me}", file=sys.stderr)
        return 2
    lower_role, lower_token = pick_lower_token(base, args)

    driver = make_driver()
    console = Console(driver, base, args.screenshots)
    step = "start"
    try:
        step = "redirect to sign-in"
        console.open("/console")
        console.wait_path("/console/login", "opening /console without a session")
        check(console.find("input#token") is not None and console.find("#sign-in") is not None, "sign-in page lacks input#token or #sign-in")
        console.screenshot("sign-in")
        print("ok   /console redirects to /console/login")

        step = "language switch"
        # One language at a time: Japanese first; the switch shows English and is remembered.
        lang = lambda: driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        check(lang() == "ja" and console.text("h1", "sign-in page") == "サインイン",
              f"the console should open in Japanese alone (lang={lang()!r}, heading {console.text('h1', 'sign-in page')!r})")
        check(console.text("#language", "sign-in page") == "English", "sign-in page: the switch should offer English")
        console.submit(None, "#language")
        console.wait_path("/console/login", "after switching the language")
        check(lang() == "en" and console.text("h1", "sign-in page") == "Sign in", f"after the switch: lang={lang()!r}, heading {console.text('h1', 'sign-in page')!r}")
        console.open("/console/login")
        check(lang() == "en" and console.text("#language", "sign-in page") == "日本語", "the English choice is not remembered across pages")
        print("ok   the console opens in Japanese; the switch shows English, and the choice is remembered")

        step = "bad token"
        console.sign_in(BAD_TOKEN)
        check(console.path() == "/console/login", f"bad token: left the sign-in page for {driver.current_url}")
        error = console.find("p.bad") or console.find("#login-error")
        error_text = error.text if error is not None else ""
        check("not valid" in error_text, f"bad token: no error message shown (page: {driver.find_element(By.TAG_NAME, 'body').text[:200]!r})")
        check(console.cookie() is None, "bad token: a kinko_session cookie was set")
        console.screenshot("bad-token")
        console.open("/console")
        console.wait_path("/console/login", "after a bad token, /console")
        print(f"ok   bad token shows {error_text!r} and stays on sign-in")

        step = "admin sign-in"
        console.sign_in(args.token)
        console.wait_path("/console", "signing in with the admin token")
        check(console.cookie() is not None, "admin sign-in: no kinko_session cookie")
        whoami = console.text("#whoami", "admin overview")
        check(me["name"] in whoami and all(r in whoami for r in me["roles"]),
              f"figure 'whoami' mismatch: console shows {whoami!r}, API /v1/whoami says {me['name']} {me['roles']}")
        console.screenshot("overview-admin")
        print(f"ok   signed in as {whoami}")

        step = "layout at 1280 px"
        width = driver.execute_script("return window.innerWidth")
        brand = driver.find_element(By.CSS_SELECTOR, "nav > b").rect
        sign_out = driver.find_element(By.CSS_SELECTOR, "#sign-out").rect
        check(abs((sign_out["y"] + sign_out["height"] / 2) - (brand["y"] + brand["height"] / 2)) < brand["height"],
              f"at {width} px the sign-out button wrapped off the navigation's first row (brand at y={brand['y']}, sign-out at y={sign_out['y']})")
        check(sign_out["x"] + sign_out["width"] <= width, f"at {width} px the sign-out button runs past the window ({sign_out})")
        print(f"ok   at {width} px the sign-out button stays on the navigation's first row")

        step = "keyboard and tablet width"
        # The first Tab lands on the skip link, which leads to the page's content.
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        focused = driver.switch_to.active_element
        check(focused.get_attribute("class") == "skip" and focused.get_attribute("href").endswith("#content"),
              f"the first Tab should reach the skip link, reached {focused.tag_name} {focused.get_attribute('outerHTML')[:120]!r}")
        # At a tablet's 800 px no console page is wider than the window (wide tables scroll inside main).
        driver.set_window_size(800, 1100)
        try:
            for page in ("/console", "/console/balances", "/console/alerts", "/console/audit", "/console/approvals"):
                console.open(page)
                WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
                widths = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
                check(widths[0] <= widths[1], f"at {widths[1]} px {page} is {widths[0]} px wide: the page scrolls sideways")
            console.screenshot("tablet-audit")
        finally:
            driver.set_window_size(1280, 1600)
            console.open("/console")
        print("ok   the first Tab reaches the skip link; at 800 px no page is wider than the window")

        step = "admin figures"
        expected = expected_figures(admin_api)
        compared = compare_overview(console, expected, "admin")
        print("ok   overview matches the API: " + "; ".join(compared))

        step = "admin audit page"
        if admin_api.allowed("/v1/audit/verify"):
            console.open("/console/audit")
            verified = admin_api.must("/v1/audit/verify")["ok"]
            status_text = console.text("#audit-status", "admin audit page")
            check(("verified" in status_text) == verified, f"figure 'audit status' mismatch: console {status_text!r}, API /v1/audit/verify ok={verified}")
            print(f"ok   audit page status {status_text!r} matches /v1/audit/verify ok={verified}")

            step = "audit entry proof in the browser"
            rows = driver.find_elements(By.CSS_SELECTOR, "tr.audit-entry")
            check(len(rows) > 0, "the audit page lists no entries")
            index = rows[0].get_attribute("data-index")
            console.submit(None, f"tr.audit-entry[data-index='{index}'] a")
            console.wait_path("/console/audit/entry", "opening an audit entry")
            state = lambda: driver.find_element(By.ID, "proof-result").get_attribute("data-state")
            try:
                WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: state() in ("ok", "failed", "unavailable"))
            except Exception:
                raise Failure(f"audit entry {index}: the browser never finished checking the proof (state {state()!r})")
            check(state() == "ok", f"audit entry {index}: the browser's check of the inclusion proof says {state()!r}: "
                                   f"{driver.find_element(By.ID, 'proof-result').text!r}")
            console.screenshot("audit-entry-proof")
            # An altered entry must not pass: change one byte in the page and check again.
            driver.execute_script(
                "const d = document.getElementById('audit-proof');"
                "d.dataset.entry = (d.dataset.entry.startsWith('00') ? '01' : '00') + d.dataset.entry.slice(2);"
                "window.kinkoCheckAuditProof();")
            WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: state() in ("ok", "failed"))
            check(state() == "failed", f"audit entry {index}: an altered entry still passes the browser's check ({state()!r})")
            print(f"ok   audit entry {index}: the browser recomputes the signed root from the entry and its proof, and refuses an altered entry")

        step = "sign-out"
        console.open("/console")
        session = console.cookie()
        check(session is not None and session["value"].startswith("kinko_s_") and session["value"] != args.token,
              "the session cookie is a session id, not the API token")
        console.sign_out()
        console.wait_path("/console/login", "after sign-out")
        check(console.cookie() is None, "sign-out: the kinko_session cookie is still set")
        console.open("/console")
        console.wait_path("/console/login", "after sign-out, /console")
        # The server ended the session: the old cookie, put back, signs nobody in.
        console.driver.add_cookie({"name": "kinko_session", "value": session["value"], "path": "/"})
        console.open("/console")
        console.wait_path("/console/login", "after sign-out, replaying the old session cookie")
        console.driver.delete_cookie("kinko_session")
        print("ok   sign-out ends the session on the server (a replayed cookie is refused)")

        finance_token = None
        if args.tokens_file:
            with open(args.tokens_file) as f:
                finance_token = json.load(f).get("finance")
        if finance_token:
            step = "finance action (compute the requirement)"
            finance_api = API(base, finance_token)
            before = len(finance_api.must("/v1/reserve/adequacy")["points"])
            console.sign_in(finance_token)
            console.wait_path("/console", "signing in as finance")
            button = console.find("#compute-requirement")
            check(button is not None, "finance: the overview has no #compute-requirement button")
            console.submit(button, "#compute-requirement")
            notice = console.find("#notice")
            check(notice is not None, f"finance: no #notice after computing (page: {driver.find_element(By.TAG_NAME, 'body').text[:200]!r})")
            notice_text = notice.text
            points = finance_api.must("/v1/reserve/adequacy")["points"]
            check(len(points) == before + 1, f"finance: the API has {len(points)} adequacy points after the console action, expected {before + 1}")
            for figure in ("required", "funded"):
                shown = number(console.text(f"#reserve-{figure}", f"finance: reserve {figure}"))
                check(shown == points[-1][figure], f"finance: figure 'reserve {figure}' after computing: console {shown}, API {points[-1][figure]}")
            console.screenshot("finance-computed")
            print(f"ok   finance computes the requirement from the console: {notice_text!r}; the API's new point matches")

            step = "finance reports (calendar, generate, download)"
            console.open("/console/reports")
            WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#report-calendar, #nothing-due"))
            due = finance_api.must("/v1/reports/due")["items"]
            shown = [(row.get_attribute("data-kind"), row.get_attribute("data-period"), row.get_attribute("data-overdue"))
                     for row in driver.find_elements(By.CSS_SELECTOR, "tr.due-item")]
            expected_due = [(item["kind"], item["period"], "true" if item["overdue"] else "false") for item in due]
            check(shown == expected_due, f"finance: the calendar shows {shown}, the API says {expected_due}")
            stored = finance_api.must("/v1/reports")["reports"]
            day = next((r["period"] for r in stored if r["kind"] == "segregation-daily"), None)
            check(day is not None, f"finance: the demo stored no segregation-daily report: {stored}")
            period = f"{day}..{day}"
            Select(console.find("#report-kind")).select_by_value("trade-journal")
            field = console.find("#report-period")
            field.clear()
            field.send_keys(period)
            console.submit(None, "#generate-report")
            notice = console.find("#notice")
            check(notice is not None and "trade-journal" in notice.text, f"finance: no notice after generating (page: {driver.find_element(By.TAG_NAME, 'body').text[:300]!r})")
            journal = next((r for r in finance_api.must("/v1/reports?kind=trade-journal")["reports"] if r["period"] == period), None)
            check(journal is not None, f"finance: the API lists no trade-journal for {period} after the console generated it")
            check(journal["sha256"][:16] in notice.text, f"finance: the notice {notice.text!r} does not name the stored SHA-256 {journal['sha256']}")
            row = WebDriverWait(driver, 20).until(EC.presence_of_element_located(
                (By.CSS_SELECTOR, f"tr.stored-report[data-kind='trade-journal'][data-period='{period}']")))
            link = row.find_element(By.CSS_SELECTOR, "a.download").get_attribute("href")
            html = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])))"
                ".catch(e => done([0, '', String(e)]));", link)
            check(html[0] == 200 and (html[1] or "").startswith("attachment;"), f"finance: downloading {link} answered {html[0]} {html[1]!r}")
            check("<html lang=\"ja\">" in html[2] and journal["sha256"] in html[2], f"finance: the downloaded report is not the stored one: {html[2][:200]!r}")
            console.screenshot("finance-reports")
            console.sign_out()
            console.wait_path("/console/login", "finance sign-out")
            print(f"ok   finance reports page: the calendar matches the API ({len(due)} items), a trade journal generated ({journal['sha256'][:16]}…) and downloaded as HTML")

        if args.tokens_file and args.kinko_bin and args.database:
            step = "approve in the browser (WebCrypto)"
            with open(args.tokens_file) as f:
                tokens = json.load(f)
            print("ok   " + approve_in_browser(console, base, tokens, args.kinko_bin, args.database, os.path.dirname(os.path.abspath(args.tokens_file))))
        else:
            print("  note: no --kinko-bin/--database: the browser approval is not exercised")

        if lower_token:
            step = f"lower role ({lower_role})"
            lower_api = API(base, lower_token)
            status, lower_me = lower_api.get("/v1/whoami")
            check(status == 200, f"lower role {lower_role}: /v1/whoami answered {status}")
            console.sign_in(lower_token)
            console.wait_path("/console", f"signing in as {lower_role}")
            console.screenshot(f"overview-{lower_role}")
            whoami = console.text("#whoami", f"{lower_role} overview")
            check(lower_me["name"] in whoami, f"{lower_role}: #whoami shows {whoami!r}, API says {lower_me['name']}")
            lower_expected = expected_figures(lower_api)
            # What this token cannot cross-check itself (audit-derived figures) comes from the admin's view.
            for key in ("reconciliation", "open_incidents"):
                if lower_expected[key] == "unknown":
                    lower_expected[key] = expected[key]
            hidden = [k for k in ("reserve", "custody", "open_alerts", "incidents_total") if lower_expected[k] is None]
            compared = compare_overview(console, lower_expected, lower_role)
            print(f"ok   {lower_role} overview: hidden panels {hidden or 'none'}; shown figures match: " + "; ".join(compared))
            if not hidden:
                print(f"  note: {lower_role} may read every overview panel; no hidden panel was exercised")
            if lower_role != "finance":
                check(console.find("#compute-requirement") is None, f"{lower_role}: the overview offers 'compute the requirement', a finance action")
                print(f"ok   {lower_role} is offered no finance action")
            if not lower_api.allowed("/v1/audit/verify"):
                console.open("/console/audit")
                check(console.find("#audit-status") is None, f"{lower_role}: /console/audit shows the audit status, but the API refuses /v1/audit/verify")
                print(f"ok   {lower_role} cannot read /console/audit (page: {driver.find_element(By.TAG_NAME, 'body').text[:60]!r}...)")
            if not lower_api.allowed("/v1/monitoring/alerts?limit=1"):
                console.open("/console/alerts")
                check(not driver.find_elements(By.XPATH, "//h1[contains(., 'Alerts')]"), f"{lower_role}: /console/alerts renders, but the API refuses /v1/monitoring/alerts")
                print(f"ok   {lower_role} cannot read /console/alerts")
            console.open("/console")
            console.sign_out()
            console.wait_path("/console/login", f"{lower_role} sign-out")
            check(console.cookie() is None, f"{lower_role} sign-out: the cookie is still set")
            print(f"ok   {lower_role} signed out")
        else:
            print("  note: no lower-role token (give --tokens-file or --lower-token); role check skipped")

        step = "every page as every role"
        if args.tokens_file:
            seen, structures = tour_every_page(console, read_tokens(args.tokens_file))
            print(f"ok   {seen} pages as every role, in Japanese: no id over 20 digits, no marker left over, balances with units; "
                  f"axe-core finds no WCAG 2.2 A/AA violation in any of their {structures} distinct structures (screenshots kept)")
            step = "drill-down as compliance (charts, flows, filters)"
            compliance_token = read_tokens(args.tokens_file).get("compliance")
            if compliance_token:
                print("ok   " + drill_down(console, base, compliance_token))
    except Failure as failure:
        console.screenshot("failure")
        print(f"FAIL [{step}] {failure}", file=sys.stderr)
        return 1
    except WebDriverException as error:
        console.screenshot("failure")
        print(f"FAIL [{step}] browser error: {error.msg if hasattr(error, 'msg') else error}", file=sys.stderr)
        traceback.print_exc(limit=6, file=sys.stderr)
        return 1
    finally:
        driver.quit()
    print("console test: all checks passed")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("KINKO_BASE_URL"))
    parser.add_argument("--token", default=os.environ.get("KINKO_TOKEN"), help="an admin token")
    parser.add_argument("--tokens-file", default=os.environ.get("KINKO_TOKENS_FILE"), help="demo-tokens.json, to pick a lower role")
    parser.add_argument("--lower-token", default=os.environ.get("KINKO_LOWER_TOKEN"))
    parser.add_argument("--kinko-bin", default=os.environ.get("KINKO_BIN"), help="the kinko binary (the second admin approves the browser key with it)")
    parser.add_argument("--database", default=os.environ.get("KINKO_DATABASE"), help="the server's database (for that CLI call)")
    parser.add_argument("--screenshots", default=os.environ.get("KINKO_E2E_SCREENSHOTS"), help="directory for PNG screenshots")
    args = parser.parse_args()
    if not args.base_url or not args.token:
        parser.error("--base-url and --token (or KINKO_BASE_URL and KINKO_TOKEN) are required")
    started = time.monotonic()
    code = run(args)
    print(f"console test took {time.monotonic() - started:.1f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
