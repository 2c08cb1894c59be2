"""Outbound benchmark: the transactional outbox against Odoo's native
"Send Webhook Notification" server action, on one running Odoo, one run.

Both send every new supplier to the simulator on 127.0.0.1, from the creation
of the suppliers over JSON-RPC (20 per call) to the last delivery:
(a) native: a ``base.automation`` rule (on creation) whose server action of
    type webhook posts each record synchronously inside the create call,
    "send and forget";
(b) this module: a subscription ``supplier.created``; the event is written
    with the supplier and delivered by queue_job, 8 calls side by side:
    with its content taken when saved (prepared in the create call), taken
    when sent (the create call notes only which record changed, the delivery
    job prepares it), and taken when sent in batches (``{"events": [...]}``,
    up to 50 events a signed call).

All paths are set up once and stay on, each for its own suppliers (the
native rule's filter and each subscription's filter pick them by name), so
no round pays for switching: turning an automation rule on or off makes
every Odoo worker reload its registry, which cost the first round after a
switch one to two seconds. Each path first sends a warm-up round, untimed.
Paths take turns over rounds; each keeps its median round and the ratio to
native of every round is reported too. Then delivery alone (a backlog worked
off once deliveries resume), and the same load during an injected outage (the
receiver answers 503 for a while, then recovers): events lost (never accepted
by the receiver) and accepted twice.
"""

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import JsonRpc, Poster, argument_parser, connect_db, report  # noqa: E402

from lib import standard_webhooks  # noqa: E402
from simulator import SimulatorServer  # noqa: E402


class OutboundBench:
    def __init__(self, args, sim):
        self.args = args
        self.sim = sim
        self.rpc = JsonRpc(Poster(args.url), args.db, args.login, args.password)
        self.db = connect_db(args.db)
        self.backend_id = self.rpc.execute(
            "fih.backend",
            "create",
            {
                "name": "Benchmark AP tool",
                "code": "bench-out",
                "kind": "ap_automation",
                "base_url": sim.url,
                "private_host_allowlist": "127.0.0.1",
                "outbound_rate_limit_per_minute": 0,
                "retry_base_seconds": 1,
                "retry_max_attempts": 50,
                "breaker_threshold": 5,
                "breaker_cooldown_seconds": 2,
                "processing_batch_size": 100,
                # 8 calls side by side on every hub path
                "outbound_concurrency": 8,
                # signed deliveries carry the webhook-id the receiver dedupes on
                "webhook_secret": standard_webhooks.generate_secret(),
            },
        )
        # one subscription per path, each for the suppliers named after it
        self.subscriptions = {
            name: self.rpc.execute(
                "fih.subscription",
                "create",
                {
                    "backend_id": self.backend_id,
                    "event_code": "supplier.created",
                    # one path each (a backend takes an event once per path)
                    "endpoint_path": f"/hub/{name}",
                    "delivery_mode": delivery_mode,
                    "batch_max_events": 50,
                    "payload_timing": payload_timing,
                    "domain": repr([("name", "=like", f"{PREFIXES[name]} %")]),
                },
            )
            for name, delivery_mode, payload_timing in PATHS
        }
        model_id = self.rpc.execute(
            "ir.model", "search", [("model", "=", "res.partner")]
        )[0]
        fields = self.rpc.execute(
            "ir.model.fields",
            "search",
            [("model", "=", "res.partner"), ("name", "in", ["name", "vat", "email"])],
        )
        self.rule_id = self.rpc.execute(
            "base.automation",
            "create",
            {
                "name": "Benchmark: native supplier webhook",
                "model_id": model_id,
                "trigger": "on_create",
                "filter_domain": repr(
                    [("name", "=like", f"{PREFIXES['native_webhook']} %")]
                ),
                "action_server_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Send supplier",
                            "model_id": model_id,
                            "state": "webhook",
                            "webhook_url": f"{sim.url}/native",
                            "webhook_field_ids": [(6, 0, fields)],
                        },
                    )
                ],
            },
        )

    def create_suppliers(self, prefix, count):
        """Create suppliers through JSON-RPC, 20 per call, as a client would."""
        for start in range(0, count, 20):
            self.rpc.execute(
                "res.partner",
                "create",
                [
                    {
                        "name": f"{prefix} {n:05d}",
                        "supplier_rank": 1,
                        "is_company": True,
                    }
                    for n in range(start, min(start + 20, count))
                ],
            )

    def hub_events(self):
        """Event ids of every accepted call to /hub, one per event, batches
        unpacked (parsed once per request)."""
        ids = []
        for request in self.sim.requests("/hub"):
            if request.fault:
                continue
            if request.seq not in self._parsed:
                body = json.loads(request.raw_body)
                self._parsed[request.seq] = [
                    event["id"] for event in body.get("events", [body])
                ]
            ids.extend(self._parsed[request.seq])
        return ids

    def accepted(self, path):
        """Events the receiver answered 2xx to (unique event ids for the hub)."""
        if path == "/hub":
            return len(set(self.hub_events()))
        return len([r for r in self.sim.requests(path) if not r.fault])

    def outbox_pending(self):
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM fih_message WHERE backend_id = %s AND "
                "direction = 'outbound' AND state IN ('received', 'processing')",
                (self.backend_id,),
            )
            return cr.fetchone()[0]

    def wait_all_paused(self, timeout=60):
        """Until every waiting event has met the pause: none is claimed, and
        none is still due without a next attempt (a drain not started yet
        would otherwise claim it after the backlog is set free, see the open
        circuit of an hour, and push it back by an hour)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.db.cursor() as cr:
                cr.execute(
                    "SELECT count(*) FROM fih_message WHERE backend_id = %s"
                    " AND (state = 'processing' OR (state = 'received'"
                    " AND next_attempt_at IS NULL))",
                    (self.backend_id,),
                )
                if not cr.fetchone()[0]:
                    return
            time.sleep(0.2)

    def wait_hub(self, expected, timeout):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.accepted("/hub") >= expected and not self.outbox_pending():
                return time.perf_counter()
            time.sleep(0.05)
        return None

    def throughput(self, path, count):
        """Suppliers of ``path`` created, from the first create call to the
        receiver's acceptance of the last event."""
        native = path == "native_webhook"
        self.sim.clear_requests()
        self._parsed = {}
        started = time.perf_counter()
        self.create_suppliers(PREFIXES[path], count)
        if native:
            finished = time.perf_counter()  # sent inside the create calls
            delivered = self.accepted("/native")
        else:
            finished = self.wait_hub(count, self.args.timeout) or time.perf_counter()
            delivered = self.accepted("/hub")
        seconds = finished - started
        return {
            "requests": len(self.sim.requests("/native" if native else "/hub")),
            "events": count,
            "delivered": delivered,
            "seconds": round(seconds, 2),
            "delivered_per_s": round(delivered / seconds, 1),
        }

    def backlog(self, path, count):
        """Delivery alone: ``count`` events wait (deliveries paused), then the
        pause ends and one more supplier wakes the drain up; events delivered
        per second from there. Native has no backlog: it sends or loses."""
        self.sim.clear_requests()
        self._parsed = {}
        with self.db.cursor() as cr:
            # paused as by an open circuit that cools down in an hour
            cr.execute(
                "UPDATE fih_backend SET breaker_status = 'open', breaker_failures = 5,"
                " breaker_opened_at = extract(epoch FROM now()) + 3600 WHERE id = %s",
                (self.backend_id,),
            )
        self.create_suppliers(PREFIXES[path], count)
        self.wait_all_paused()
        with self.db.cursor() as cr:
            cr.execute(
                "UPDATE fih_message SET next_attempt_at = NULL WHERE backend_id = %s"
                " AND state = 'received'",
                (self.backend_id,),
            )
            cr.execute(
                "UPDATE fih_backend SET breaker_status = 'closed',"
                " breaker_failures = 0, breaker_opened_at = NULL WHERE id = %s",
                (self.backend_id,),
            )
        started = time.perf_counter()
        self.create_suppliers(PREFIXES[path], 1)
        finished = self.wait_hub(count + 1, self.args.timeout) or time.perf_counter()
        delivered = self.accepted("/hub")
        seconds = finished - started
        return {
            "requests": len(self.sim.requests("/hub")),
            "events": count + 1,
            "delivered": delivered,
            "seconds": round(seconds, 2),
            "delivered_per_s": round(delivered / seconds, 1),
        }

    def outage(self, path, count):
        """The receiver fails for ``--outage`` seconds while suppliers are created."""
        native = path == "native_webhook"
        self.sim.clear_requests()
        self._parsed = {}
        route = "/native" if native else "/hub"
        self.sim.add_fault(kind="status", status=503, path_prefix=route)
        started = time.perf_counter()
        self.create_suppliers(PREFIXES[path], count)
        remaining = self.args.outage - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        self.sim.clear_faults()
        recovered = time.perf_counter()
        if native:
            time.sleep(2)
            delivered = self.accepted(route)
        else:
            self.wait_hub(count, self.args.timeout)
            delivered = self.accepted(route)
        return {
            "events": count,
            "outage_seconds": round(recovered - started, 1),
            "delivered": delivered,
            "lost": count - delivered,
            "recovery_seconds": round(time.perf_counter() - recovered, 1),
            "duplicates_seen_by_receiver": 0
            if native
            else len(self.hub_events()) - delivered,
        }

    def run(self):
        n = self.args.events
        self._parsed = {}
        load_before = os.getloadavg()
        names = ["native_webhook", *(p[0] for p in PATHS)]
        for name in names:  # warm-up: workers, caches, sessions
            self.throughput(name, self.args.warm_up)
        # the machine is shared: paths take turns, round after round, and each
        # path keeps its median round, so that a busy minute hits them all
        rounds = {name: [] for name in names}
        for _round in range(self.args.rounds):
            for name in names:
                rounds[name].append(self.throughput(name, n))
        results = {
            name: {
                **sorted(runs, key=lambda run: run["delivered_per_s"])[len(runs) // 2],
                "rounds_delivered_per_s": [run["delivered_per_s"] for run in runs],
            }
            for name, runs in rounds.items()
        }
        # each round's own ratio too: native and the hub ran seconds apart
        results["ratio_per_round"] = {
            name: [
                round(hub["delivered_per_s"] / native["delivered_per_s"], 2)
                for hub, native in zip(
                    rounds[name], rounds["native_webhook"], strict=True
                )
            ]
            for name, *_mode in PATHS
        }
        for name, *_mode in PATHS:
            runs = [self.backlog(name, n) for _round in range(self.args.backlog_rounds)]
            results[f"{name}_backlog"] = {
                **sorted(runs, key=lambda run: run["delivered_per_s"])[len(runs) // 2],
                "rounds_delivered_per_s": [run["delivered_per_s"] for run in runs],
            }
        for name in names:
            results[f"{name}_outage"] = self.outage(name, self.args.outage_events)
        native = results["native_webhook"]["delivered_per_s"]
        results["ratio_delivered_per_s"] = {
            key: round(results[key]["delivered_per_s"] / native, 2)
            for name, *_mode in PATHS
            for key in (name, f"{name}_backlog")
        }
        results["load_average_1_5_15"] = {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        }
        return results


# (result key, subscription delivery_mode, payload_timing)
PATHS = [
    ("outbox_saved", "single", "on_change"),
    ("outbox", "single", "on_delivery"),
    ("outbox_batch", "batch", "on_delivery"),
]
# each path's suppliers are named after it: its rule or subscription picks them
PREFIXES = {
    "native_webhook": "Native",
    "outbox_saved": "Saved",
    "outbox": "Sent",
    "outbox_batch": "Batched",
}
LABELS = {
    "outbox_saved": "hub, content taken when saved, single deliveries",
    "outbox": "hub, content taken when sent, single deliveries",
    "outbox_batch": "hub, content taken when sent, batches of up to 50",
}


def markdown(results):
    native_outage = results["native_webhook_outage"]
    rows = [
        "Creation to delivery (each path's median round; x native in the same run):",
        "",
        "| path | delivered/s | x native | x native per round | HTTP calls "
        "| lost during outage | duplicates seen by receiver |",
        "|---|---:|---:|---|---:|---:|---:|",
        f"| native Send Webhook Notification | "
        f"{results['native_webhook']['delivered_per_s']} | 1.0 | - | "
        f"{results['native_webhook']['requests']} | "
        f"{native_outage['lost']} of {native_outage['events']} | - |",
    ]
    for name, *_mode in PATHS:
        outage = results[f"{name}_outage"]
        rows.append(
            f"| {LABELS[name]} | {results[name]['delivered_per_s']} | "
            f"{results['ratio_delivered_per_s'][name]} | "
            f"{', '.join(str(r) for r in results['ratio_per_round'][name])} | "
            f"{results[name]['requests']} | "
            f"{outage['lost']} of {outage['events']} | "
            f"{outage['duplicates_seen_by_receiver']} |"
        )
    rows += [
        "",
        "Delivery alone (a backlog of events drained once deliveries resume; "
        "native sends while the records are created, or never):",
        "",
        "| path | delivered/s | x native send rate | HTTP calls |",
        "|---|---:|---:|---:|",
    ]
    for name, *_mode in PATHS:
        backlog = results[f"{name}_backlog"]
        rows.append(
            f"| {LABELS[name]} | {backlog['delivered_per_s']} | "
            f"{results['ratio_delivered_per_s'][f'{name}_backlog']} | "
            f"{backlog['requests']} |"
        )
    load = results["load_average_1_5_15"]
    rows += ["", f"Load average before {load['before']}, after {load['after']}."]
    return "\n".join(rows)


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--outage-events", type=int, default=200)
    parser.add_argument("--outage", type=float, default=10.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="median of")
    parser.add_argument("--backlog-rounds", type=int, default=1)
    parser.add_argument(
        "--warm-up", type=int, default=100, help="events of each path's warm-up"
    )
    args = parser.parse_args()
    with SimulatorServer() as sim:
        results = OutboundBench(args, sim).run()
    report(results, markdown(results), args.output)


if __name__ == "__main__":
    main()
