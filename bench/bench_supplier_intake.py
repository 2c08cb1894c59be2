"""Supplier intake benchmark: this module against Odoo's native ways, one run.

Against one running Odoo (started by ``scripts/bench.sh``), side by side:

(a) native: a ``base.automation`` "On webhook" rule whose server action
    creates the supplier inside the request;
(b) JSON-RPC: an external system calling ``res.partner.create`` per supplier;
(c) this module, one event per signed webhook;
(d) this module, batches of events per signed webhook.

For each: requests/s and p50/p99 latency of intake, suppliers applied per
second end to end, and the duplicates left after re-sending every event once.
All traffic goes to 127.0.0.1.
"""

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import (  # noqa: E402
    BenchSession,
    argument_parser,
    percentile,
    report,
    run_concurrently,  # noqa: E402
    sign_requests,  # noqa: E402
)

from simulator.generators import supplier_event  # noqa: E402

NATIVE_ACTION = """
data = payload['data']
env['res.partner'].create({
    'name': data['name'],
    'vat': data['vat'],
    'company_registry': data['company_registry'],
    'email': data['email'],
    'phone': data['phone'],
    'is_company': True,
    'supplier_rank': 1,
    'bank_ids': [(0, 0, {'acc_number': a['iban']}) for a in data['bank_accounts']],
})
"""

# Odoo's one-by-one limit: one ORM create per supplier, in one process
ONE_BY_ONE_ACTION = """
for values in env.context.get('fih_bench_values', []):
    model.create(values)
"""
# queue_job capacity that processes the hub's messages (channels = root:2)
PROCESSING_WORKERS = 2


def partner_values(event):
    data = event["data"]
    return {
        "name": data["name"],
        "vat": data["vat"],
        "company_registry": data["company_registry"],
        "email": data["email"],
        "phone": data["phone"],
        "is_company": True,
        "supplier_rank": 1,
        "bank_ids": [(0, 0, {"acc_number": a["iban"]}) for a in data["bank_accounts"]],
    }


class Bench(BenchSession):
    def __init__(self, args):
        super().__init__(
            args,
            {
                "name": "Benchmark procurement platform",
                "code": "bench",
                "kind": "procurement",
                "max_batch_events": 1000,
            },
        )
        model_id = self.partner_model_id = self.rpc.execute(
            "ir.model", "search", [("model", "=", "res.partner")]
        )[0]
        rule_id = self.rpc.execute(
            "base.automation",
            "create",
            {
                "name": "Benchmark: supplier from webhook",
                "model_id": model_id,
                "trigger": "on_webhook",
                "record_getter": "model.env.company.partner_id",
                "action_server_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Create supplier",
                            "model_id": model_id,
                            "state": "code",
                            "code": NATIVE_ACTION,
                        },
                    )
                ],
            },
        )
        uuid = self.rpc.execute("base.automation", "read", [rule_id], ["webhook_uuid"])[
            0
        ]["webhook_uuid"]
        self.native_path = f"/web/hook/{uuid}"
        self.module_path = "/finance_hub/webhook/bench"

    # -- request builders ----------------------------------------------------

    def native_requests(self, numbers):
        headers = {"Content-Type": "application/json"}
        return [
            (self.native_path, json.dumps(supplier_event(n)).encode(), headers)
            for n in numbers
        ]

    def jsonrpc_requests(self, numbers):
        headers = {"Content-Type": "application/json"}
        return [
            (
                "/jsonrpc",
                self.rpc.create_body(partner_values(supplier_event(n))),
                headers,
            )
            for n in numbers
        ]

    def module_requests(self, numbers, batch_size=1):
        requests_ = []
        numbers = list(numbers)
        for start in range(0, len(numbers), batch_size):
            chunk = [supplier_event(n) for n in numbers[start : start + batch_size]]
            document = chunk[0] if batch_size == 1 else {"events": chunk}
            body = json.dumps(document).encode()
            requests_.append((self.module_path, body, None))
        return requests_

    # -- measures --------------------------------------------------------------

    def count_partners(self, numbers):
        names = [supplier_event(n)["data"]["name"] for n in numbers]
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM res_partner WHERE name = ANY(%s)", (names,)
            )
            return cr.fetchone()[0]

    def messages_done(self):
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT state, count(*) FROM fih_message WHERE backend_id = %s "
                "GROUP BY state",
                (self.backend_id,),
            )
            return dict(cr.fetchall())

    def wait_applied(self, expected_total, timeout):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            states = self.messages_done()
            finished = (
                states.get("done", 0) + states.get("failed", 0) + states.get("dead", 0)
            )
            if finished >= expected_total:
                return time.perf_counter(), states
            time.sleep(0.05)
        return None, self.messages_done()

    def intake(self, name, requests_, events, started_before=None):
        statuses, latencies, seconds = run_concurrently(
            self.poster, list(requests_), self.args.concurrency
        )
        ok = sum(1 for status in statuses if 200 <= status < 300)
        return {
            "name": name,
            "requests": len(statuses),
            "events": events,
            "ok": ok,
            "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "seconds": round(seconds, 3),
            "requests_per_s": round(len(statuses) / seconds, 1),
            "events_per_s": round(events / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "mean_ms": round(statistics.fmean(latencies), 1),
        }

    def odoo_limit(self, n):
        """Odoo's own limit for the same work, on the same server: the same
        suppliers (with their bank account, tracking off) created in one
        process by one batched ORM ``create``, then one ``create`` each."""
        context = {"tracking_disable": True}
        batch = [partner_values(supplier_event(k)) for k in range(500_001, 500_001 + n)]
        started = time.perf_counter()
        self.rpc.execute_kw("res.partner", "create", [batch], {"context": context})
        batched = time.perf_counter() - started
        action = self.rpc.execute(
            "ir.actions.server",
            "create",
            {
                "name": "Benchmark: one create per supplier",
                "model_id": self.partner_model_id,
                "state": "code",
                "code": ONE_BY_ONE_ACTION,
            },
        )
        single = [
            partner_values(supplier_event(k)) for k in range(600_001, 600_001 + n)
        ]
        started = time.perf_counter()
        self.rpc.execute_kw(
            "ir.actions.server",
            "run",
            [[action]],
            {"context": {**context, "fih_bench_values": single}},
        )
        one_by_one = time.perf_counter() - started
        return {
            "name": "Odoo's ORM in one process (limit)",
            "suppliers": n,
            "batched_per_s": round(n / batched, 1),
            "one_by_one_per_s": round(n / one_by_one, 1),
            "processing_workers": PROCESSING_WORKERS,
        }

    def warm_up(self):
        numbers = range(900_001, 900_001 + 4 * self.args.concurrency)
        run_concurrently(
            self.poster, self.native_requests(numbers), self.args.concurrency
        )
        numbers = range(910_001, 910_001 + 4 * self.args.concurrency)
        run_concurrently(
            self.poster, self.jsonrpc_requests(numbers), self.args.concurrency
        )
        numbers = range(920_001, 920_001 + 4 * self.args.concurrency)
        run_concurrently(
            self.poster,
            sign_requests(self.secret, self.module_requests(numbers)),
            self.args.concurrency,
        )
        self.wait_applied(len(numbers), 120)

    def run(self):
        n = self.args.events
        self.warm_up()
        results = {}

        native = range(100_001, 100_001 + n)
        result = self.intake(
            "native base.automation webhook", self.native_requests(native), n
        )
        result["applied_per_s"] = result["events_per_s"]  # applied in the request
        run_concurrently(
            self.poster, self.native_requests(native), self.args.concurrency
        )
        result["duplicates_after_resend"] = self.count_partners(native) - n
        results["native_webhook"] = result

        rpc = range(200_001, 200_001 + n)
        result = self.intake(
            "JSON-RPC create per supplier", self.jsonrpc_requests(rpc), n
        )
        result["applied_per_s"] = result["events_per_s"]
        run_concurrently(self.poster, self.jsonrpc_requests(rpc), self.args.concurrency)
        result["duplicates_after_resend"] = self.count_partners(rpc) - n
        results["jsonrpc_create"] = result

        base = sum(self.messages_done().values())
        single = range(300_001, 300_001 + n)
        started = time.perf_counter()
        result = self.intake(
            "finance_hub webhook, 1 event/request",
            sign_requests(self.secret, self.module_requests(single)),
            n,
        )
        finished, states = self.wait_applied(base + n, self.args.timeout)
        result["applied_per_s"] = round(n / (finished - started), 1) if finished else 0
        result["end_to_end_seconds"] = (
            round(finished - started, 2) if finished else None
        )
        run_concurrently(
            self.poster,
            sign_requests(self.secret, self.module_requests(single)),
            self.args.concurrency,
        )
        self.wait_applied(base + n, self.args.timeout)
        result["duplicates_after_resend"] = self.count_partners(single) - n
        result["message_states"] = states
        results["module_single"] = result

        base = sum(self.messages_done().values())
        batched = range(400_001, 400_001 + n * self.args.batch_factor)
        events = len(batched)
        started = time.perf_counter()
        result = self.intake(
            f"finance_hub webhook, {self.args.batch_size} events/request",
            sign_requests(
                self.secret, self.module_requests(batched, self.args.batch_size)
            ),
            events,
        )
        finished, states = self.wait_applied(base + events, self.args.timeout)
        result["applied_per_s"] = (
            round(events / (finished - started), 1) if finished else 0
        )
        result["end_to_end_seconds"] = (
            round(finished - started, 2) if finished else None
        )
        run_concurrently(
            self.poster,
            sign_requests(
                self.secret, self.module_requests(batched, self.args.batch_size)
            ),
            self.args.concurrency,
        )
        self.wait_applied(base + events, self.args.timeout)
        result["duplicates_after_resend"] = self.count_partners(batched) - events
        result["message_states"] = states
        results["module_batched"] = result

        results["odoo_limit"] = self.odoo_limit(n)
        limit = results["odoo_limit"]["batched_per_s"] * PROCESSING_WORKERS

        native_rate = results["native_webhook"]["requests_per_s"]
        native_applied = results["native_webhook"]["applied_per_s"]
        results["ratios"] = {
            "single_intake_vs_native": round(
                results["module_single"]["requests_per_s"] / native_rate, 2
            ),
            "single_end_to_end_vs_native": round(
                results["module_single"]["applied_per_s"] / native_applied, 2
            ),
            "batched_end_to_end_vs_native": round(
                results["module_batched"]["applied_per_s"] / native_applied, 2
            ),
            "batched_end_to_end_vs_odoo_limit": round(
                results["module_batched"]["applied_per_s"] / limit, 2
            ),
            "single_intake_vs_jsonrpc": round(
                results["module_single"]["requests_per_s"]
                / results["jsonrpc_create"]["requests_per_s"],
                2,
            ),
        }
        return results


def markdown(results, args):
    rows = [
        "| path | requests/s | events/s (intake) | p50 ms | p99 ms "
        "| applied/s (end to end) | duplicates after re-send |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in ("native_webhook", "jsonrpc_create", "module_single", "module_batched"):
        r = results[key]
        rows.append(
            f"| {r['name']} | {r['requests_per_s']} | {r['events_per_s']} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {r['applied_per_s']} "
            f"| {r['duplicates_after_resend']} |"
        )
    ratios = results["ratios"]
    limit = results["odoo_limit"]
    rows.append(
        f"| {limit['name']}: batched create / one by one | - | - | - | - "
        f"| {limit['batched_per_s']} / {limit['one_by_one_per_s']} | - |"
    )
    rows.append("")
    rows.append(
        f"{args.events} suppliers per path "
        f"({args.events * args.batch_factor} batched), "
        f"{args.concurrency} concurrent senders. Ratios: single-event intake "
        f"{ratios['single_intake_vs_native']}x native webhook, end to end "
        f"{ratios['single_end_to_end_vs_native']}x (single) and "
        f"{ratios['batched_end_to_end_vs_native']}x (batched) native; batched "
        f"end to end = {ratios['batched_end_to_end_vs_odoo_limit']} of Odoo's "
        f"batched ORM limit x {limit['processing_workers']} processing workers."
    )
    return "\n".join(rows)


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--batch-factor",
        type=int,
        default=5,
        help="the batched path sends this many times --events",
    )
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    results = Bench(args).run()
    report(results, markdown(results, args), args.output)


if __name__ == "__main__":
    main()
