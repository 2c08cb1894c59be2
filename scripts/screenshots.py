"""Screenshots of the running demo for the README: the integration
dashboard, the exception inbox and a bill held by the integration.

Headless Chromium (the browser Odoo's browser tests use), driven over the
Chrome DevTools protocol with ``websocket-client``. With ``--feed``, signed
simulator traffic goes to the demo backend first, so that the pictures show
failures and a held bill: suppliers (a few with an unknown country code),
and a procure-to-pay cycle whose bill is invoiced above the order's price.

Run by ``scripts/screenshots.sh``, which starts the demo when it is not
running; see ``POLICY-dashboard.rst``.
"""

import argparse
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator.generators import supplier_event  # noqa: E402
from simulator.p2p_documents import (  # noqa: E402
    invoice_event,
    order_event,
    receipt_event,
)
from simulator.sender import WebhookSender  # noqa: E402

# the simulator's procure-to-pay defaults, which match the demo company
TAX_PERCENT = 15
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1440, 900

# (file, address in the web client, what must be on screen before the shot)
PAGES = (
    (
        "dashboard.png",
        "/web#action=finance_integration_hub.fih_dashboard_action",
        ".o_fih_dashboard .o_kanban_record .o_fih_traffic_chart canvas",
    ),
    (
        "exceptions.png",
        "/web#action=finance_integration_hub.fih_exception_group_action",
        ".o_view_controller .o_data_row, .o_view_controller "
        ".o_kanban_record:not(.o_kanban_ghost), .o_view_nocontent",
    ),
)
HELD_BILL_READY = ".o_form_view .o_form_sheet"


def log(text):
    print(f"[screenshots] {text}", file=sys.stderr, flush=True)


class Odoo:
    """JSON-RPC to the demo as a signed-in user."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self._call(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )
        self.session_id = self.http.cookies.get("session_id")
        if not self.session_id:
            raise SystemExit("could not sign in to the demo (login or password?)")

    def _call(self, path, params):
        response = self.http.post(
            self.url + path, json={"jsonrpc": "2.0", "params": params}, timeout=60
        )
        response.raise_for_status()
        answer = response.json()
        if answer.get("error"):
            raise SystemExit(f"{path}: {answer['error'].get('message')}")
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self._call(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )


# -- traffic ---------------------------------------------------------------


def feed(odoo, webhook_url, secret, wait):
    """Suppliers, a few of them invalid, and a bill above its order's price,
    sent signed to the demo backend; waits until the queue processed them."""
    run = int(time.time()) % 100000
    first = 100000 + run * 10  # new numbers each run: no event is a duplicate
    with WebhookSender(webhook_url, secret, timeout=30) as sender:

        def send(event):
            status, body, _headers = sender.send_event(event)
            if status >= 300:
                log(f"the demo refused {event['type']}: {status} {body}")

        for n in range(first, first + 6):
            send(supplier_event(n))
        for n in range(first + 6, first + 9):
            send(supplier_event(n, address={"country_code": "ZZ"}))
        supplier, order = f"SUP-{first:06d}", f"PO-{first:06d}"
        send(
            order_event(
                order,
                supplier,
                [(1, "PAPER", "Copy paper A4", 10, 4.0, TAX_PERCENT)],
                currency=company_currency(odoo),
            )
        )
        send(receipt_event(f"GR-{first:06d}", order, [(1, 10)]))
        send(
            invoice_event(
                f"INV-{first:06d}",
                order,
                supplier,
                [(1, 1, 10, 4.6, TAX_PERCENT)],
                currency=company_currency(odoo),
            )
        )
    deadline = time.time() + wait
    while time.time() < deadline:
        waiting = odoo.call(
            "fih.message",
            "search_count",
            [
                ("state", "in", ("received", "processing")),
                ("next_attempt_at", "=", False),
            ],
        )
        if not waiting:
            return
        time.sleep(2)
    log("some messages still wait; taking the pictures anyway")


def company_currency(odoo):
    companies = odoo.call("res.company", "search_read", [], ["currency_id"], limit=1)
    return companies[0]["currency_id"][1]


# -- the browser -------------------------------------------------------------


def find_browser():
    for name in (os.environ.get("CHROMIUM_BIN"), *BROWSERS):
        if name and shutil.which(name):
            return shutil.which(name)
    raise SystemExit("no Chromium found: install the chromium package")


class Browser:
    """A headless Chromium page over the DevTools protocol."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="fih-shots-")
        self.process = subprocess.Popen(  # noqa: S603 - our own browser
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._port()
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10)
        page = next(t for t in targets.json() if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"])
        self.ids = itertools.count(1)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _port(self):
        active = Path(self.profile) / "DevToolsActivePort"
        for _attempt in range(100):
            if active.exists() and active.read_text().strip():
                return int(active.read_text().split()[0])
            time.sleep(0.1)
        raise SystemExit("Chromium did not start")

    def send(self, method, **params):
        call_id = next(self.ids)
        self.socket.send(
            json.dumps({"id": call_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise SystemExit(f"{method}: {message['error']}")
                return message.get("result", {})

    def sign_in(self, url, session_id):
        self.send("Network.enable")
        self.send("Network.setCookie", name="session_id", value=session_id, url=url)

    def shoot(self, url, ready, path, settle=1.5, timeout=90):
        self.send("Page.navigate", url=url)
        deadline = time.time() + timeout
        check = f"!!document.querySelector({json.dumps(ready)})"
        while time.time() < deadline:
            found = self.send("Runtime.evaluate", expression=check, returnByValue=True)
            if found.get("result", {}).get("value"):
                break
            time.sleep(0.3)
        else:
            raise SystemExit(f"{url}: the page did not show {ready}")
        time.sleep(settle)  # charts and fonts
        shot = self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        log(f"{path.name}: {path.stat().st_size // 1024} kB")

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="fih_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=str(ROOT / "static" / "description"))
    parser.add_argument("--feed", action="store_true", help="send traffic first")
    parser.add_argument("--secret", default=os.environ.get("FIH_DEMO_SECRET"))
    parser.add_argument("--backend", default="demo-procurement")
    parser.add_argument("--wait", type=float, default=120, help="seconds")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    odoo = Odoo(base, args.db, args.login, args.password)
    if args.feed:
        if not args.secret:
            raise SystemExit("--feed needs the demo's webhook secret (--secret)")
        feed(odoo, f"{base}/finance_hub/webhook/{args.backend}", args.secret, args.wait)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    browser = Browser(find_browser())
    try:
        browser.sign_in(base, odoo.session_id)
        for name, address, ready in PAGES:
            browser.shoot(base + address, ready, out / name)
        held = odoo.call(
            "account.move",
            "search",
            [("move_type", "=", "in_invoice"), ("fih_hold_reason", "!=", False)],
            limit=1,
            order="id desc",
        )
        if held:
            browser.shoot(
                f"{base}/web#model=account.move&id={held[0]}&view_type=form",
                HELD_BILL_READY,
                out / "held_bill.png",
            )
        else:
            log("no held bill in the demo: run with --feed")
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
