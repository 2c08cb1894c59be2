"""Vendor bill benchmark: approved invoices from the AP tool through this
module against the same bills created and posted through JSON-RPC, on one
running Odoo, in one run.

(a) JSON-RPC: ``account.move.create`` (5 lines, 15 % tax) then
    ``action_post`` per bill, from ``--concurrency`` clients (Odoo numbers a
    dated draft bill when it is created, so concurrent clients collide on
    the journal sequence when they post: 1 client is what works);
(b) this module: the same invoices as canonical ``invoice.upsert`` events,
    signed, in batches of ``--batch`` per webhook, from the same number of
    clients; each bill is created, checked (tax totals, untaxed total,
    duplicates, period lock, currency) and posted by the queue jobs.

(c) Odoo's own limit, on the same server in the same run: the same bills
    created by one batched ORM ``account.move.create`` then posted by one
    ``action_post`` (one JSON-RPC call each, so one process), and created
    and posted one by one by a server action looping in one process.

Reported: bills posted per second end to end (first request to last bill
posted), and the bills left after every event is sent a second time
(duplicates); the module's rate against JSON-RPC and against Odoo's batched
limit times the queue's processing workers. All traffic goes to 127.0.0.1.
"""

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import (  # noqa: E402
    BenchSession,
    argument_parser,
    report,
    run_concurrently,
    sign_requests,  # noqa: E402
)

from simulator.generators import supplier_event  # noqa: E402

LINES = 5
# queue_job capacity that processes the hub's messages (channels = root:2)
PROCESSING_WORKERS = 2
ONE_BY_ONE_ACTION = """
for values in env.context.get('fih_bench_values', []):
    model.create(values).action_post()
"""


def invoice(n, currency, prefix, price_offset=0.0):
    lines = [
        {
            "line_id": str(k),
            "description": f"Item {k}",
            "quantity": 1 + k,
            "unit_price": round(10 + price_offset + n * 0.01 + k, 2),
            "tax_codes": ["VAT15"],
        }
        for k in range(1, LINES + 1)
    ]
    untaxed = round(sum(line["quantity"] * line["unit_price"] for line in lines), 2)
    tax = round(untaxed * 0.15, 2)  # rounded globally, as the company does
    return {
        "external_id": f"{prefix}-{n}",
        "document_type": "invoice",
        "supplier_external_id": "SUP-000001",
        "invoice_number": f"{prefix}-{n:06d}",
        "invoice_date": "2026-11-26",
        "currency": currency,
        "lines": lines,
        "tax_totals": [{"tax_code": "VAT15", "base": untaxed, "amount": tax}],
        "amount_untaxed": untaxed,
        "amount_tax": tax,
        "amount_total": round(untaxed + tax, 2),
    }


class BillBench(BenchSession):
    def __init__(self, args):
        super().__init__(
            args,
            {
                "name": "Benchmark AP tool",
                "code": "bench-ap",
                "kind": "ap_automation",
                # the bills have no purchase order: an AP tool trusted to
                # post them (the default keeps such bills for approval)
                "bill_posting": "post",
                "max_batch_events": 500,
                "processing_batch_size": 50,
                "retry_base_seconds": 1,
            },
        )
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT c.name FROM res_company co JOIN res_currency c "
                "ON c.id = co.currency_id ORDER BY co.id LIMIT 1"
            )
            self.currency = cr.fetchone()[0]
            cr.execute(
                "SELECT id FROM account_tax WHERE type_tax_use = 'purchase' "
                "AND amount = 15 ORDER BY id LIMIT 1"
            )
            self.tax_id = cr.fetchone()[0]

    def send_events(self, events):
        batches = [
            (
                self.path,
                json.dumps(
                    {"events": events[start : start + self.args.batch]}
                ).encode(),
                None,
            )
            for start in range(0, len(events), self.args.batch)
        ]
        statuses, _latencies, _seconds = run_concurrently(
            self.poster,
            list(sign_requests(self.secret, batches)),
            self.args.concurrency,
        )
        return statuses

    def supplier(self):
        event = supplier_event(1)
        self.send_events([event])
        self.wait_done(1, 120)
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT res_id FROM fih_binding WHERE backend_id = %s "
                "AND object_type = 'supplier'",
                (self.backend_id,),
            )
            return cr.fetchone()[0]

    def wait_done(self, expected, timeout):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.db.cursor() as cr:
                cr.execute(
                    "SELECT error_message FROM fih_message WHERE backend_id = %s "
                    "AND state IN ('failed', 'dead') "
                    "LIMIT 1",
                    (self.backend_id,),
                )
                error = cr.fetchone()
                if error:
                    raise SystemExit(f"a message failed: {error[0]}")
                cr.execute(
                    "SELECT count(*) FROM fih_message WHERE backend_id = %s "
                    "AND state IN ('done', 'failed', 'dead', 'skipped')",
                    (self.backend_id,),
                )
                if cr.fetchone()[0] >= expected:
                    return time.perf_counter()
            time.sleep(0.05)
        raise SystemExit(f"not all messages were processed within {timeout} s")

    def posted(self, prefix):
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*), count(DISTINCT ref) FROM account_move "
                "WHERE ref LIKE %s AND state = 'posted'",
                (f"{prefix}-%",),
            )
            return cr.fetchone()

    def bill_values(self, partner_id, n, prefix):
        """What JSON-RPC (and Odoo's own limit) sends for bill ``n``."""
        data = invoice(n, self.currency, prefix)
        return {
            "move_type": "in_invoice",
            "partner_id": partner_id,
            "invoice_date": data["invoice_date"],
            "ref": data["invoice_number"],
            "invoice_line_ids": [
                (
                    0,
                    0,
                    {
                        "name": line["description"],
                        "quantity": line["quantity"],
                        "price_unit": line["unit_price"],
                        "tax_ids": [(6, 0, [self.tax_id])],
                    },
                )
                for line in data["lines"]
            ],
        }

    def odoo_limit(self, partner_id, count):
        """Odoo's own limit for the same bills, on the same server: one
        batched ORM ``create`` then one ``action_post`` of them all, then a
        server action creating and posting them one by one, each in one
        process (tracking as Odoo's defaults have it)."""
        batch = [self.bill_values(partner_id, n, "LIMA") for n in range(count)]
        started = time.perf_counter()
        ids = self.rpc.execute_kw("account.move", "create", [batch], {})
        self.rpc.execute_kw("account.move", "action_post", [ids], {})
        batched = time.perf_counter() - started
        model_id = self.rpc.execute(
            "ir.model", "search", [("model", "=", "account.move")]
        )[0]
        action = self.rpc.execute(
            "ir.actions.server",
            "create",
            {
                "name": "Benchmark: create and post one bill at a time",
                "model_id": model_id,
                "state": "code",
                "code": ONE_BY_ONE_ACTION,
            },
        )
        single = [self.bill_values(partner_id, n, "LIMB") for n in range(count)]
        started = time.perf_counter()
        self.rpc.execute_kw(
            "ir.actions.server",
            "run",
            [[action]],
            {"context": {"fih_bench_values": single}},
        )
        one_by_one = time.perf_counter() - started
        posted_batched, _distinct = self.posted("LIMA")
        posted_single, _distinct = self.posted("LIMB")
        return {
            "bills": count,
            "posted": posted_batched + posted_single,
            "batched_per_s": round(posted_batched / batched, 1),
            "one_by_one_per_s": round(posted_single / one_by_one, 1),
            "processing_workers": PROCESSING_WORKERS,
        }

    def jsonrpc(self, partner_id, count):
        def one(n):
            move_id = self.rpc.execute(
                "account.move", "create", self.bill_values(partner_id, n, "RPC")
            )
            self.rpc.execute("account.move", "action_post", [move_id])

        started = time.perf_counter()
        with ThreadPoolExecutor(self.args.concurrency) as pool:
            list(pool.map(one, range(count)))
        seconds = time.perf_counter() - started
        posted, distinct = self.posted("RPC")
        return {
            "bills": count,
            "posted": posted,
            "seconds": round(seconds, 2),
            "bills_per_s": round(posted / seconds, 1),
        }

    def module(self, count, already_done):
        events = [
            {
                "id": f"evt-bench-inv-{n}",
                "type": "invoice.upsert",
                "occurred_at": "2026-11-26T08:00:00Z",
                # other prices than the JSON-RPC bills: not possible duplicates
                "data": invoice(n, self.currency, "HUB", price_offset=100.0),
            }
            for n in range(count)
        ]
        started = time.perf_counter()
        statuses = self.send_events(events)
        finished = self.wait_done(already_done + count, self.args.timeout)
        seconds = finished - started
        posted, _distinct = self.posted("HUB")
        # every event again: nothing may be created twice
        self.send_events(events)
        time.sleep(2)
        again, distinct = self.posted("HUB")
        return {
            "bills": count,
            "requests_ok": sum(1 for status in statuses if 200 <= status < 300),
            "posted": posted,
            "seconds": round(seconds, 2),
            "bills_per_s": round(posted / seconds, 1),
            "after_resend": again,
            "duplicates": again - distinct,
        }

    def run(self):
        partner_id = self.supplier()
        rpc = self.jsonrpc(partner_id, self.args.bills)
        hub = self.module(self.args.bills, already_done=1)
        limit = self.odoo_limit(partner_id, self.args.limit_bills)
        return {
            "bills": self.args.bills,
            "lines_per_bill": LINES,
            "concurrency": self.args.concurrency,
            "batch": self.args.batch,
            "jsonrpc": rpc,
            "module": hub,
            "odoo_limit": limit,
            "ratio": round(hub["bills_per_s"] / rpc["bills_per_s"], 2),
            "ratio_vs_odoo_limit": round(
                hub["bills_per_s"]
                / (limit["batched_per_s"] * limit["processing_workers"]),
                2,
            ),
            "ratio_vs_odoo_limit_one_process": round(
                hub["bills_per_s"] / limit["batched_per_s"], 2
            ),
            "load_average": [round(value, 2) for value in os.getloadavg()],
        }


def markdown(results):
    rpc, hub, limit = results["jsonrpc"], results["module"], results["odoo_limit"]
    return "\n".join(
        [
            "| Path | bills | posted | seconds | bills/s | duplicates |",
            "|---|---:|---:|---:|---:|---:|",
            f"| JSON-RPC create + action_post | {rpc['bills']} | {rpc['posted']} "
            f"| {rpc['seconds']} | {rpc['bills_per_s']} | - |",
            f"| this module, batches of {results['batch']} | {hub['bills']} "
            f"| {hub['posted']} | {hub['seconds']} | {hub['bills_per_s']} "
            f"| {hub['duplicates']} |",
            f"| Odoo's ORM in one process (limit): batched create + post "
            f"| {limit['bills']} | - | - | {limit['batched_per_s']} | - |",
            f"| Odoo's ORM in one process (limit): one by one "
            f"| {limit['bills']} | - | - | {limit['one_by_one_per_s']} | - |",
            "",
            f"Ratios: {results['ratio']}x JSON-RPC; "
            f"{results['ratio_vs_odoo_limit_one_process']} of Odoo's batched limit "
            f"in one process, {results['ratio_vs_odoo_limit']} of that limit x "
            f"{limit['processing_workers']} processing workers. Load average "
            f"{results['load_average']}.",
        ]
    )


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--limit-bills",
        type=int,
        default=200,
        help="bills for each of Odoo's own limits (batched, one by one)",
    )
    args = parser.parse_args()
    results = BillBench(args).run()
    report(results, markdown(results), args.output)


if __name__ == "__main__":
    main()
