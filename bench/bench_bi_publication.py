"""BI publication benchmark: a publication load against a BI tool reading the
same vendor bill lines through JSON-RPC ``search_read`` in pages, on one
running Odoo, in one run.

Data: ten vendor bills of 100 lines are created and posted through JSON-RPC,
then copied in SQL (moves with all their lines, so every entry stays
balanced) until there are ``--lines`` posted bill lines over four months.

Measured, on the running Odoo (prefork workers and the queue_job runner):
(a) JSON-RPC: ``search_read`` of the lines in pages of ``--page`` (keyset on
    id, the fastest way a client can page), full and "changed since";
(b) this module: a full load and an incremental load of the spend
    publication, run by queue_job, gzip NDJSON chunks to the simulated
    warehouse on 127.0.0.1, which unzips, parses and recounts every row.

Peak memory is measured apart, in a probe process that runs the very same
load code under ``tracemalloc`` (bench/bi_memory_probe.py): a one-month
period load (a quarter of the rows), the full load and the incremental load.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import JsonRpc, Poster, argument_parser, connect_db, report  # noqa: E402

from simulator import BiWarehouse, SimulatorServer  # noqa: E402

TEMPLATE_BILLS = 10
LINES_PER_BILL = 100
MONTHS = ("2026-07-15", "2026-08-15", "2026-09-15", "2026-10-15")
RPC_FIELDS = [
    "move_id",
    "move_name",
    "ref",
    "date",
    "date_maturity",
    "company_id",
    "company_currency_id",
    "partner_id",
    "product_id",
    "name",
    "account_id",
    "analytic_distribution",
    "purchase_line_id",
    "quantity",
    "price_unit",
    "currency_id",
    "amount_currency",
    "balance",
]
SPEND_DOMAIN = [
    ("move_id.move_type", "in", ["in_invoice", "in_refund"]),
    ("parent_state", "=", "posted"),
    ("display_type", "=", "product"),
]


class BiBench:
    def __init__(self, args, sim, warehouse):
        self.args = args
        self.sim = sim
        self.warehouse = warehouse
        self.rpc = JsonRpc(Poster(args.url), args.db, args.login, args.password)
        self.db = connect_db(args.db)
        self.backend_id = self.rpc.execute(
            "fih.backend",
            "create",
            {
                "name": "Benchmark data warehouse",
                "code": "bench-bi",
                "kind": "bi",
                "base_url": sim.url,
                "private_host_allowlist": "127.0.0.1",
                "read_timeout": 120,
            },
        )
        self.publication_id = self.rpc.execute(
            "fih.bi.publication",
            "create",
            {
                "name": "Benchmark spend",
                "code": "spend",
                "backend_id": self.backend_id,
                "dataset": "spend",
                "schedule": "manual",
                "chunk_size": args.chunk,
            },
        )

    # -- data -----------------------------------------------------------------

    def generate(self, lines):
        partner = self.rpc.execute(
            "res.partner", "create", {"name": "Bench Supplier", "supplier_rank": 1}
        )
        templates = []
        for n in range(TEMPLATE_BILLS):
            move = self.rpc.execute(
                "account.move",
                "create",
                {
                    "move_type": "in_refund" if n == 0 else "in_invoice",
                    "partner_id": partner,
                    "invoice_date": MONTHS[0],
                    "date": MONTHS[0],
                    "ref": f"BENCH-{n}",
                    "invoice_line_ids": [
                        (
                            0,
                            0,
                            {
                                "name": f"Item {k}",
                                "quantity": 1 + k % 7,
                                "price_unit": 10 + k,
                            },
                        )
                        for k in range(LINES_PER_BILL)
                    ],
                },
            )
            self.rpc.execute("account.move", "action_post", [move])
            templates.append(move)
        copies = max(0, lines // (TEMPLATE_BILLS * LINES_PER_BILL) - 1)
        with self.db.cursor() as cr:
            move_columns = self.columns(cr, "account_move", {"id"})
            line_columns = self.columns(cr, "account_move_line", {"id"})
            for copy in range(1, copies + 1):
                day = MONTHS[copy % len(MONTHS)]
                for template in templates:
                    cr.execute(
                        self.copy_sql("account_move", move_columns, "id = %(src)s"),
                        {
                            "src": template,
                            "day": day,
                            "suffix": f"/C{copy}",
                            "move": None,
                        },
                    )
                    new_move = cr.fetchone()[0]
                    cr.execute(
                        self.copy_sql(
                            "account_move_line", line_columns, "move_id = %(src)s"
                        ),
                        {
                            "src": template,
                            "day": day,
                            "suffix": f"/C{copy}",
                            "move": new_move,
                        },
                    )
            cr.execute("ANALYZE account_move; ANALYZE account_move_line")
        return self.count_lines()

    @staticmethod
    def columns(cr, table, skip):
        cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        return [name for (name,) in cr.fetchall() if name not in skip]

    @staticmethod
    def copy_sql(table, columns, where):
        overrides = {
            "name": "name || %(suffix)s" if table == "account_move" else "name",
            "move_name": "move_name || %(suffix)s",
            "move_id": "%(move)s",
            "date": "%(day)s::date",
            "invoice_date": "%(day)s::date",
            "invoice_date_due": "%(day)s::date + 30",
            "date_maturity": "%(day)s::date + 30",
            "create_date": "now() at time zone 'UTC' - interval '1 day'",
            "write_date": "now() at time zone 'UTC' - interval '1 day'",
        }
        values = ", ".join(overrides.get(column, column) for column in columns)
        names = ", ".join(columns)
        return (
            f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} "  # noqa: S608
            f"WHERE {where} RETURNING id"
        )

    def count_lines(self):
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM account_move_line l JOIN account_move m "
                "ON m.id = l.move_id WHERE m.move_type IN ('in_invoice', 'in_refund') "
                "AND m.state = 'posted' AND l.display_type = 'product'"
            )
            return cr.fetchone()[0]

    def ledger_total(self):
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT sum(l.balance) FROM account_move_line l JOIN account_move m "
                "ON m.id = l.move_id WHERE m.move_type IN ('in_invoice', 'in_refund') "
                "AND m.state = 'posted' AND l.display_type = 'product'"
            )
            return str(cr.fetchone()[0])

    def touch(self, count):
        """Change ``count`` lines now; return the moment just before."""
        with self.db.cursor() as cr:
            cr.execute("SELECT now() at time zone 'UTC'")
            since = cr.fetchone()[0]
            cr.execute(
                "UPDATE account_move_line SET write_date = now() at time zone 'UTC' "
                "WHERE id IN (SELECT l.id FROM "
                "account_move_line l JOIN account_move m ON m.id = l.move_id "
                "WHERE m.move_type = 'in_invoice' AND l.display_type = 'product' "
                "ORDER BY l.id DESC LIMIT %s)",
                (count,),
            )
        return since.strftime("%Y-%m-%d %H:%M:%S.%f")

    # -- JSON-RPC, as a BI tool reads --------------------------------------------

    def rpc_read(self, domain):
        started = time.perf_counter()
        last_id, rows, received = 0, 0, 0
        while True:
            page = self.rpc.execute(
                "account.move.line",
                "search_read",
                [*SPEND_DOMAIN, *domain, ("id", ">", last_id)],
                RPC_FIELDS,
                0,
                self.args.page,
                "id",
            )
            if not page:
                break
            rows += len(page)
            received += len(json.dumps(page))
            last_id = page[-1]["id"]
        seconds = time.perf_counter() - started
        return {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
        }

    # -- this module --------------------------------------------------------------

    def publish(self, method):
        started = time.perf_counter()
        self.rpc.execute("fih.bi.publication", method, [self.publication_id])
        deadline = started + self.args.timeout
        while time.perf_counter() < deadline:
            loads = self.rpc.execute(
                "fih.bi.load",
                "search_read",
                [("publication_id", "=", self.publication_id)],
                [
                    "state",
                    "rows",
                    "tombstones",
                    "duration_seconds",
                    "uid",
                    "totals_json",
                ],
                0,
                1,
                "id desc",
            )
            if loads and loads[0]["state"] not in ("queued", "running"):
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        load = loads[0]
        sent = load["rows"] + load["tombstones"]
        return {
            "state": load["state"],
            "rows": load["rows"],
            "tombstones": load["tombstones"],
            "seconds": round(seconds, 2),
            "job_seconds": round(load["duration_seconds"], 2),
            "rows_per_s": round(sent / seconds),
            "totals": json.loads(load["totals_json"] or "[]"),
            "warehouse_rows": len(self.warehouse.tables.get("spend", {})),
        }

    def probe(self, mode, period=None):
        command = [
            sys.executable,
            str(REPO / "bench" / "bi_memory_probe.py"),
            "--conf",
            self.args.odoo_conf,
            "--db",
            self.args.db,
            "--publication",
            str(self.publication_id),
            "--mode",
            mode,
        ]
        if period:
            command += ["--period", period]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode:
            raise RuntimeError(f"memory probe failed: {result.stderr[-2000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def run(self):
        lines = self.generate(self.args.lines)
        ledger = self.ledger_total()
        rpc_full = self.rpc_read([])
        full = self.publish("action_full_reload")
        manifest_total = sum(
            float(item["total"])
            for item in full["totals"]
            if item["amount"] == "amount_company"
        )
        changed = self.args.lines // 10
        since = self.touch(changed)
        rpc_incremental = self.rpc_read([("write_date", ">", since)])
        incremental = self.publish("action_publish_now")
        memory = {
            "period_month": self.probe("period", MONTHS[1]),
            "full": self.probe("full"),
        }
        self.touch(changed)
        memory["incremental"] = self.probe("incremental")
        return {
            "lines": lines,
            "chunk_size": self.args.chunk,
            "page_size": self.args.page,
            "ledger_total_company_currency": ledger,
            "manifest_total_company_currency": f"{manifest_total:.2f}",
            "jsonrpc_full": rpc_full,
            "publication_full": {k: v for k, v in full.items() if k != "totals"},
            "full_ratio": round(full["rows_per_s"] / rpc_full["rows_per_s"], 2),
            "jsonrpc_incremental": rpc_incremental,
            "publication_incremental": {
                k: v for k, v in incremental.items() if k != "totals"
            },
            "incremental_ratio": round(
                incremental["rows_per_s"] / rpc_incremental["rows_per_s"], 2
            ),
            "peak_memory": memory,
        }


def markdown(results):
    full, rpc = results["publication_full"], results["jsonrpc_full"]
    inc, rpc_inc = results["publication_incremental"], results["jsonrpc_incremental"]
    memory = results["peak_memory"]
    rows = [
        "| Read of posted vendor bill lines | rows | seconds | rows/s | ratio |",
        "|---|---:|---:|---:|---:|",
        f"| JSON-RPC search_read, pages of {results['page_size']} | {rpc['rows']} "
        f"| {rpc['seconds']} | {rpc['rows_per_s']} | 1.00 |",
        f"| Publication, full load | {full['rows']} | {full['seconds']} "
        f"| {full['rows_per_s']} | {results['full_ratio']} |",
        f"| JSON-RPC search_read, changed since | {rpc_inc['rows']} "
        f"| {rpc_inc['seconds']} | {rpc_inc['rows_per_s']} | 1.00 |",
        f"| Publication, incremental load | {inc['rows']} | {inc['seconds']} "
        f"| {inc['rows_per_s']} | {results['incremental_ratio']} |",
        "",
        "| Load (memory probe) | rows | peak Python memory (MiB) |",
        "|---|---:|---:|",
    ]
    for name, probe in memory.items():
        rows.append(f"| {name} | {probe['rows']} | {probe['peak_mib']} |")
    return "\n".join(rows)


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--odoo-conf", required=True)
    args = parser.parse_args()
    warehouse = BiWarehouse()
    with SimulatorServer() as sim:
        warehouse.attach(sim)
        results = BiBench(args, sim, warehouse).run()
    report(results, markdown(results), args.output)


if __name__ == "__main__":
    main()
