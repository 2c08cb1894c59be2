"""BI destinations benchmark: the spend dataset into a PostgreSQL warehouse
and into Parquet files, against JSON-RPC ``search_read`` paging and against
the limit, all measured in one run on one running Odoo.

Data: the vendor bill lines of bench_bi_publication.py (``--lines`` posted
lines over four months).

Measured:
(a) JSON-RPC ``search_read`` of the lines in pages of ``--page`` (keyset on id);
(b) the limit: PostgreSQL's own ``COPY (<the dataset's SELECT>) TO STDOUT``
    of the same rows, read by this process and thrown away;
(c) a full reload of a publication into a PostgreSQL warehouse (a second
    database of the same cluster, reached over TCP with a password) and
    into Parquet files, from the click to the load reconciled: the
    warehouse's (or the file's) own counts and sums equal to the manifest.

Peak memory: the memory probe runs the same loads in a process of its own
(tracemalloc for Python objects, the Arrow pool's peak, and the process's
maximum resident size), for one month (a quarter of the rows) and for all.
"""

import json
import secrets
import sys
import time
from pathlib import Path

import psycopg2
from psycopg2.sql import SQL, Identifier

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_bi_publication import MONTHS, BiBench  # noqa: E402
from common import argument_parser, report  # noqa: E402

from lib.bi_datasets import DATASETS  # noqa: E402
from simulator import BiWarehouse, SimulatorServer  # noqa: E402


class CountingSink:
    """A file the COPY output goes to: counted, then dropped."""

    def __init__(self):
        self.bytes = 0

    def write(self, data):
        self.bytes += len(data)


class SinksBench(BiBench):
    def __init__(self, args, sim, warehouse):
        # --chunk sets the sinks' chunks; the HTTP publication keeps its 5,000
        self.sink_chunk = args.chunk
        args.chunk = args.chunk or 5000
        super().__init__(args, sim, warehouse)
        self.wh_name = f"{args.db}_warehouse"
        self.wh_user = f"{args.db}_warehouse"
        self.wh_password = secrets.token_urlsafe(16)

    # -- the warehouse database ---------------------------------------------------

    def create_warehouse(self):
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cr:
            cr.execute(
                SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    Identifier(self.wh_name)
                )
            )
            cr.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(self.wh_user)))
            cr.execute(
                SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(
                    Identifier(self.wh_user)
                ),
                (self.wh_password,),
            )
            cr.execute(
                SQL("CREATE DATABASE {} OWNER {}").format(
                    Identifier(self.wh_name), Identifier(self.wh_user)
                )
            )
        return admin

    def drop_warehouse(self, admin):
        with admin.cursor() as cr:
            cr.execute(
                SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    Identifier(self.wh_name)
                )
            )
            cr.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(self.wh_user)))
        admin.close()

    def warehouse_figures(self):
        connection = psycopg2.connect(
            host="127.0.0.1",
            dbname=self.wh_name,
            user=self.wh_user,
            password=self.wh_password,
        )
        with connection, connection.cursor() as cr:
            cr.execute(
                "SELECT count(*), sum(amount_company)::text FROM fih_wh.spend "
                "WHERE NOT _fih_deleted"
            )
            rows, total = cr.fetchone()
        connection.close()
        return rows, total

    # -- publications -----------------------------------------------------------------

    def sink_publication(self, code, values):
        # the destination's own default chunk size unless --chunk is given
        chunk = {"chunk_size": self.sink_chunk} if self.sink_chunk else {}
        return self.rpc.execute(
            "fih.bi.publication",
            "create",
            {
                "name": f"Benchmark spend ({code})",
                "code": code,
                "backend_id": self.backend_id,
                "dataset": "spend",
                "schedule": "manual",
                **chunk,
                **values,
            },
        )

    def chunk_size(self, publication_id):
        [publication] = self.rpc.execute(
            "fih.bi.publication", "read", [publication_id], ["chunk_size"]
        )
        return publication["chunk_size"]

    def publish_to(self, publication_id):
        self.publication_id = publication_id
        result = self.publish("action_full_reload")
        return {key: value for key, value in result.items() if key != "totals"}

    # -- the limit -------------------------------------------------------------------

    def copy_limit(self):
        """PostgreSQL's own COPY of the dataset's SELECT, what no load can beat."""
        dataset = DATASETS["spend"]
        columns = ", ".join(f"src.{name}" for name in dataset.column_names)
        query = (
            "WITH fih_params AS (SELECT current_date AS as_of), "  # noqa: S608
            f"src AS ({dataset.select}) SELECT {columns} FROM src WHERE src._live"
        )
        sink = CountingSink()
        with self.db.cursor() as cr:
            cr.execute("SET jit = off")
            started = time.perf_counter()
            cr.copy_expert(f"COPY ({query}) TO STDOUT", sink, size=1 << 20)
            seconds = time.perf_counter() - started
            rows = cr.rowcount
        return {
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "bytes": sink.bytes,
        }

    def run(self):
        lines = self.generate(self.args.lines)
        ledger = self.ledger_total()
        rpc_full = self.rpc_read([])
        limit = self.copy_limit()
        admin = self.create_warehouse()
        try:
            warehouse_id = self.sink_publication(
                "wh",
                {
                    "sink": "postgres",
                    "warehouse_sslmode": "disable",
                    "warehouse_dsn": (
                        f"host=127.0.0.1 dbname={self.wh_name} user={self.wh_user} "
                        f"password={self.wh_password}"
                    ),
                },
            )
            parquet_id = self.sink_publication(
                "files", {"sink": "parquet", "parquet_folder": "bench"}
            )
            # a first load creates the tables and warms the caches; the
            # second, measured, merges into a full table (the usual night)
            self.publish_to(warehouse_id)
            postgres = self.publish_to(warehouse_id)
            warehouse_rows, warehouse_total = self.warehouse_figures()
            self.publish_to(parquet_id)
            parquet = self.publish_to(parquet_id)
            memory = {}
            for name, publication in (
                ("postgres", warehouse_id),
                ("parquet", parquet_id),
            ):
                self.publication_id = publication
                memory[f"{name}_month"] = self.probe("period", MONTHS[1])
                memory[f"{name}_full"] = self.probe("full")
        finally:
            self.drop_warehouse(admin)
        return {
            "lines": lines,
            "chunk_size": self.chunk_size(parquet_id),
            "page_size": self.args.page,
            "ledger_total_company_currency": ledger,
            "warehouse_rows": warehouse_rows,
            "warehouse_total_company_currency": warehouse_total,
            "jsonrpc_full": rpc_full,
            "copy_limit": limit,
            "postgres_full": postgres,
            "parquet_full": parquet,
            "postgres_of_limit": round(postgres["rows_per_s"] / limit["rows_per_s"], 2),
            "parquet_of_limit": round(parquet["rows_per_s"] / limit["rows_per_s"], 2),
            "postgres_vs_jsonrpc": round(
                postgres["rows_per_s"] / rpc_full["rows_per_s"], 2
            ),
            "parquet_vs_jsonrpc": round(
                parquet["rows_per_s"] / rpc_full["rows_per_s"], 2
            ),
            "peak_memory": memory,
        }


def markdown(results):
    rpc, limit = results["jsonrpc_full"], results["copy_limit"]
    rows = [
        "| Read of posted vendor bill lines | rows | seconds | rows/s | of the limit |",
        "|---|---:|---:|---:|---:|",
        f"| COPY (dataset SELECT) TO STDOUT (limit) | {limit['rows']} "
        f"| {limit['seconds']} | {limit['rows_per_s']} | 1.00 |",
        f"| JSON-RPC search_read, pages of {results['page_size']} | {rpc['rows']} "
        f"| {rpc['seconds']} | {rpc['rows_per_s']} "
        f"| {round(rpc['rows_per_s'] / limit['rows_per_s'], 2)} |",
    ]
    for name in ("postgres", "parquet"):
        load = results[f"{name}_full"]
        rows.append(
            f"| {name} full reload ({load['state']}) | {load['rows']} "
            f"| {load['seconds']} | {load['rows_per_s']} "
            f"| {results[f'{name}_of_limit']} |"
        )
    rows += [
        "",
        "| Load (memory probe) | rows | Python peak (MiB) | Arrow peak (MiB) "
        "| process max RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, probe in results["peak_memory"].items():
        rows.append(
            f"| {name} | {probe['rows']} | {probe['peak_mib']} "
            f"| {probe.get('arrow_peak_mib', '-')} | {probe.get('max_rss_mib', '-')} |"
        )
    return "\n".join(rows)


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument(
        "--chunk", type=int, help="rows per chunk (default: the destination's own)"
    )
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--odoo-conf", required=True)
    args = parser.parse_args()
    warehouse = BiWarehouse()
    with SimulatorServer() as sim:
        warehouse.attach(sim)
        results = SinksBench(args, sim, warehouse).run()
    report(results, markdown(results), args.output)
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
