"""Faults and throughput on the running cluster (``scripts/cluster.sh start``).

Usage: PY scripts/cluster_faults.py node-kill|runner-kill|pg-restart|
       replica-stop|throughput [--events N] [--output FILE]

Every load is signed supplier events sent through nginx by 4 senders
(batches of 50, 20 % of the events sent a second time in batches of their
own, shuffled); a request not answered 2xx is sent again, as a sender does.
Each fault ends with its counts: events sent, requests answered 2xx,
processed, duplicates, lost (and exits 1 unless lost = duplicates = 0).

- node-kill: kill -9 of the Odoo node that is not the queue_job runner
  (master and every worker) during the load;
- runner-kill: kill -9 of the node whose runner holds queue_job's advisory
  lock while the backlog is processed; measures how long until the other
  node's runner takes the lock and until messages are processed again;
- pg-restart: the PostgreSQL primary restarted (fast) during the load: the
  answers are counted by status (503 + Retry-After expected, never a 500 or
  a hang) and every accepted event must be processed after;
- replica-stop: the replica stopped, the metrics scrape says it read on the
  primary and why, the replica started again and the reads go back to it;
- throughput: intake requests/s (one event per request), events/s batched
  and suppliers applied/s end to end, with node 2 stopped then running.

A killed or stopped piece is started again at the end (cluster.sh start).
"""

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATE = (
    Path(os.environ.get("FIH_HOME") or Path.home() / ".cache/finance-integration-hub")
    / "cluster"
)
os.environ.setdefault("PGHOST", "/var/run/postgresql")
os.environ.setdefault("PGPORT", os.environ.get("FIH_CLUSTER_PG_PORT", "55432"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import (  # noqa: E402
    BenchSession,
    argument_parser,
    connect_db,
    report,
    run_concurrently,
    sign_requests,
)
from fault_worker_kill import WorkerKill, workers_of  # noqa: E402

from simulator.generators import supplier_event  # noqa: E402

RUNNER_LOCK = 2293787760715711918  # queue_job's PG_ADVISORY_LOCK_ID
PROXY_PORT = int(os.environ.get("FIH_CLUSTER_PROXY_PORT", "18080"))
CLUSTER = [str(REPO / "scripts" / "cluster.sh")]


def node_pid(n):
    return int((STATE / f"node{n}.pid").read_text())


def next_numbers(count):
    """Supplier numbers no earlier run of this script used on this database."""
    counter = STATE / "fault-numbers"
    start = int(counter.read_text()) if counter.exists() else 100_000
    counter.write_text(str(start + count))
    return list(range(start, start + count))


def kill_node(n):
    """kill -9 of node ``n``: its master and every worker at once."""
    master = node_pid(n)
    victims = [master, *workers_of(master)]
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(victims)


class ClusterLoad(WorkerKill):
    """The worker-kill bench's signed load and counts, on a backend of its
    own per run, through the proxy."""

    def __init__(self, args, code):
        BenchSession.__init__(
            self,
            args,
            {
                "name": f"Cluster fault {code}",
                "code": code,
                "kind": "procurement",
                "max_batch_events": 100,
                "processing_batch_size": 20,
            },
        )

    def requests(self):
        numbers = next_numbers(self.args.events)
        again = random.Random(7).sample(numbers, len(numbers) // 5)
        batches = []
        for group in (numbers, again):
            events = [supplier_event(n) for n in group]
            random.Random(len(group)).shuffle(events)
            batches += [
                events[i : i + self.args.batch]
                for i in range(0, len(events), self.args.batch)
            ]
        random.Random(11).shuffle(batches)
        return [
            (self.path, json.dumps({"events": events}).encode(), None)
            for events in batches
        ], numbers

    def post_all(self, requests_):
        """As the bench, and remember each attempt's status and time."""

        def one(request):
            started = time.monotonic()
            try:
                status = self.poster.post(*request)[0]
            except OSError:
                status = 0
            self.attempts.append((status, round(time.monotonic() - started, 2)))
            return status

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, requests_))

    def processed(self):
        return self.states().get("done", 0)

    def settle(self, timeout):
        deadline = time.monotonic() + timeout
        states = self.states()
        while time.monotonic() < deadline:
            states = self.states()
            if set(states) <= {"done", "failed", "dead"}:
                break
            time.sleep(1)
        return states

    def run_with(self, fault, delay):
        """Send the load; ``fault()`` runs ``delay`` s after the start."""
        self.attempts = []
        requests_, numbers = self.requests()
        outcome = {}

        def later():
            time.sleep(delay)
            outcome.update(fault() or {})

        thread = threading.Thread(target=later)
        started = time.monotonic()
        thread.start()
        statuses, never_accepted = self.send(requests_)
        send_seconds = time.monotonic() - started
        thread.join()
        self.db.close()
        self.db = connect_db(self.args.db)  # a restarted server closed the old one
        states = self.settle(self.args.timeout)
        settled_seconds = time.monotonic() - started
        rows, distinct = self.suppliers(numbers)
        codes = [status for status, _seconds in self.attempts]
        return outcome | {
            "events_sent": len(numbers) + len(numbers) // 5,
            "distinct_events": len(numbers),
            "requests": len(requests_),
            "attempts": len(self.attempts),
            "attempts_by_status": {str(c): codes.count(c) for c in sorted(set(codes))},
            "slowest_answer_s": max(seconds for _status, seconds in self.attempts),
            "requests_2xx_first_try": sum(1 for s in statuses if 200 <= s < 300),
            "requests_never_accepted": never_accepted,
            "send_seconds": round(send_seconds, 1),
            "settled_seconds": round(settled_seconds, 1),
            "message_states": states,
            "processed": states.get("done", 0),
            "suppliers_created": rows,
            "duplicates": rows - distinct,
            "lost": len(numbers) - distinct,
        }


def runner_holder(db):
    """The application name (fih-node<N>-<pid>) holding the runner lock."""
    with db.cursor() as cr:
        cr.execute(
            """
            SELECT a.application_name FROM pg_locks l
              JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted
               AND (l.classid::bigint << 32 | l.objid::bigint) = %s
            """,
            (RUNNER_LOCK,),
        )
        row = cr.fetchone()
        return row[0] if row else None


def restart_cluster():
    """Start again what a fault stopped (cluster.sh starts what is missing)."""
    subprocess.run([*CLUSTER, "start"], check=True, capture_output=True)  # noqa: S603


def pg_ctl(cluster, *action):
    """pg_ctlcluster on one of this cluster's own PostgreSQL clusters."""
    subprocess.run(["/usr/bin/pg_ctlcluster", "15", cluster, *action], check=True)  # noqa: S603


def node_kill(args):
    load = ClusterLoad(args, f"fault-node-{int(time.time())}")
    holder = runner_holder(load.db) or "fih-node1"
    victim = 2 if holder.startswith("fih-node1") else 1

    def fault():
        return {"node_killed": victim, "processes_killed": kill_node(victim)}

    result = load.run_with(fault, args.delay)
    restart_cluster()
    return result


def runner_kill(args):
    load = ClusterLoad(args, f"fault-runner-{int(time.time())}")
    trace = {}

    def fault():
        holder = runner_holder(load.db)
        victim = int(holder.split("-")[1].removeprefix("node"))
        done_before = load.processed()
        killed_at = time.monotonic()
        trace.update(killed=kill_node(victim))
        new_holder = None
        while time.monotonic() - killed_at < 120:
            new_holder = runner_holder(load.db)
            if new_holder and not new_holder.startswith(f"fih-node{victim}-"):
                break
            time.sleep(0.2)
        took_lock = time.monotonic() - killed_at
        while time.monotonic() - killed_at < 600:
            if load.processed() > done_before:
                break
            time.sleep(0.5)
        return {
            "runner_node_killed": victim,
            "processes_killed": trace["killed"],
            "runner_before": holder,
            "runner_after": new_holder,
            "seconds_until_other_runner_active": round(took_lock, 1),
            "seconds_until_messages_processed_again": round(
                time.monotonic() - killed_at, 1
            ),
        }

    result = load.run_with(fault, args.delay)
    restart_cluster()
    return result


def pg_restart(args):
    load = ClusterLoad(args, f"fault-pg-{int(time.time())}")

    def fault():
        started = time.monotonic()
        pg_ctl("fihprimary", "restart", "-m", "fast")
        return {"primary_restart_seconds": round(time.monotonic() - started, 1)}

    result = load.run_with(fault, args.delay)
    result["answers_500"] = result["attempts_by_status"].get("500", 0)
    return result


def scrape(token):
    connection = http.client.HTTPConnection("127.0.0.1", PROXY_PORT, timeout=30)
    connection.request(
        "GET", "/finance_hub/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    lag = [line for line in text.splitlines() if line.startswith("fih_replica_lag")]
    return {"read_from": response.headers["X-FIH-Read-From"], "lag": lag}


def fallback_reasons(since):
    reasons = []
    for n in (1, 2):
        for line in (STATE / f"node{n}.log").read_text().splitlines():
            if "Reads fall back to the primary" in line and line[:19] >= since:
                reasons.append(line.split("Reads fall back to the primary: ")[1])
    return reasons


def replica_stop(args):
    token = (STATE / "metrics-token").read_text().strip()
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    before = scrape(token)
    pg_ctl("fihreplica", "stop", "-m", "fast")
    stopped = scrape(token)
    pg_ctl("fihreplica", "start")
    started = time.monotonic()
    after = scrape(token)
    while after["read_from"] != "replica" and time.monotonic() - started < 120:
        time.sleep(1)
        after = scrape(token)
    after["seconds_until_back_on_replica"] = round(time.monotonic() - started, 1)
    return {
        "before": before,
        "replica_stopped": stopped,
        "said": fallback_reasons(since)[:1],
        "replica_started_again": after,
        "lost": 0,
        "duplicates": 0,
    }


def throughput(args):
    """1 node then 2 nodes behind the proxy, the same load each time."""
    results = {"cores": os.cpu_count()}
    for nodes in (1, 2):
        if nodes == 1:
            os.kill(node_pid(2), signal.SIGTERM)  # graceful: nginx skips it
            time.sleep(8)
        else:
            restart_cluster()
            time.sleep(8)  # the runner lock settles, workers warm up
        load = ClusterLoad(args, f"bench-{nodes}n-{int(time.time())}")
        single = next_numbers(args.single)
        requests_ = list(
            sign_requests(
                load.secret,
                [
                    (load.path, json.dumps(supplier_event(n)).encode(), None)
                    for n in single
                ],
            )
        )
        statuses, _latencies, seconds = run_concurrently(load.poster, requests_, 8)
        single_rps = len(requests_) / seconds
        load.settle(args.timeout)
        numbers = next_numbers(args.events)
        batches = [
            [supplier_event(n) for n in numbers[i : i + 100]]
            for i in range(0, len(numbers), 100)
        ]
        requests_ = list(
            sign_requests(
                load.secret,
                [
                    (load.path, json.dumps({"events": b}).encode(), None)
                    for b in batches
                ],
            )
        )
        started = time.monotonic()
        batch_statuses, _latencies, seconds = run_concurrently(
            load.poster, requests_, 8
        )
        load.settle(args.timeout)
        end_to_end = time.monotonic() - started
        rows, distinct = load.suppliers(numbers)
        results[f"{nodes}_node"] = {
            "intake_requests_per_s": round(single_rps, 1),
            "batched_events_per_s": round(len(numbers) / seconds, 1),
            "applied_per_s_end_to_end": round(distinct / end_to_end, 1),
            "non_2xx": sum(1 for s in statuses + batch_statuses if not 200 <= s < 300),
            "suppliers": rows,
            "duplicates": rows - distinct,
            "lost": len(numbers) - distinct,
        }
    one, two = results["1_node"], results["2_node"]
    results["ratio_2_vs_1"] = {
        key: round(two[key] / one[key], 2)
        for key in (
            "intake_requests_per_s",
            "batched_events_per_s",
            "applied_per_s_end_to_end",
        )
    }
    results["lost"] = one["lost"] + two["lost"]
    results["duplicates"] = one["duplicates"] + two["duplicates"]
    return results


SCENARIOS = {
    "node-kill": node_kill,
    "runner-kill": runner_kill,
    "pg-restart": pg_restart,
    "replica-stop": replica_stop,
    "throughput": throughput,
}


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--single", type=int, default=600)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.set_defaults(url=f"http://127.0.0.1:{PROXY_PORT}", db="fih_cluster")
    args = parser.parse_args()
    result = SCENARIOS[args.scenario](args)
    counts = (
        f"{args.scenario}: events sent {result.get('events_sent', '-')}, "
        f"requests 2xx at first try {result.get('requests_2xx_first_try', '-')}"
        f"/{result.get('requests', '-')}, processed {result.get('processed', '-')}, "
        f"duplicates {result['duplicates']}, lost {result['lost']}"
    )
    report(result, counts, args.output)
    return 0 if not result["lost"] and not result["duplicates"] else 1


if __name__ == "__main__":
    sys.exit(main())
