"""Fault test: kill -9 every Odoo worker several times while a backlog is
processed, and check that it drains with nobody involved.

3,000 signed supplier events (batches of 50, 4 senders, 20 % sent twice, in
shuffled order) go to a running Odoo (scripts/bench.sh worker-kill starts
it); while the queue jobs process them, every child of the Odoo master
(HTTP and cron workers) is killed with SIGKILL five times, 3 seconds apart,
from the start of the sending. The master respawns them; requests cut by a
kill are sent again, as a sender would. Then it waits for every message to
be settled and prints: events sent, accepted, processed, left unprocessed, suppliers
created, duplicates, and how long the backlog took after the last kill.
Exit status 0 only when nothing is lost and nothing is applied twice.
"""

import json
import os
import random
import signal
import sys
import threading
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
    sign_requests,
)

from simulator.generators import supplier_event  # noqa: E402


def workers_of(master_pid):
    """The pids of the master's children (its workers)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()]


class WorkerKill(BenchSession):
    def __init__(self, args):
        super().__init__(
            args,
            {
                "name": "Fault test procurement platform",
                "code": "fault-kill",
                "kind": "procurement",
                "max_batch_events": 100,
                "processing_batch_size": 20,
            },
        )

    def requests(self):
        """Batches of distinct events, then 20 % of the events again in
        batches of their own (a redelivery never repeats an id within one
        request), all in shuffled order."""
        numbers = list(range(600_001, 600_001 + self.args.events))
        again = random.Random(7).sample(numbers, len(numbers) // 5)
        batch = self.args.batch
        batches = []
        for group in (numbers, again):
            events = [supplier_event(n) for n in group]
            random.Random(len(group)).shuffle(events)
            batches += [events[i : i + batch] for i in range(0, len(events), batch)]
        random.Random(11).shuffle(batches)
        return [
            (self.path, json.dumps({"events": events}).encode(), None)
            for events in batches
        ], numbers

    def states(self):
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT state, count(*) FROM fih_message WHERE backend_id = %s"
                " GROUP BY state",
                (self.backend_id,),
            )
            return dict(cr.fetchall())

    def suppliers(self, numbers):
        names = [supplier_event(n)["data"]["name"] for n in numbers]
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*), count(DISTINCT name) FROM res_partner"
                " WHERE name = ANY(%s)",
                (names,),
            )
            return cr.fetchone()

    def send(self, requests_):
        """Send, and send again what was not answered 2xx (as a sender does
        after an error or a cut connection), signing each attempt anew."""
        first_statuses, pending = None, list(requests_)
        for _attempt in range(10):
            statuses = self.post_all(list(sign_requests(self.secret, pending)))
            first_statuses = first_statuses or statuses
            pending = [
                request
                for request, status in zip(pending, statuses, strict=True)
                if not 200 <= status < 300
            ]
            if not pending:
                break
            time.sleep(2)
        return first_statuses, len(pending)

    def post_all(self, requests_):
        """POST each request from 4 senders; its status in request order, 0
        when the connection was cut (the worker was killed mid-request)."""

        def one(request):
            try:
                return self.poster.post(*request)[0]
            except OSError:
                return 0

        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(one, requests_))

    def kill_workers(self, kills):
        """Kill every worker of the master, ``--kills`` times."""
        for _round in range(self.args.kills):
            time.sleep(self.args.kill_interval)
            victims = workers_of(self.args.odoo_pid)
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            kills.append({"at": round(time.monotonic(), 1), "killed": len(victims)})

    def run(self):
        requests_, numbers = self.requests()
        kills = []
        killer = threading.Thread(target=self.kill_workers, args=(kills,))
        started = time.monotonic()
        killer.start()  # the kills start while the events are still arriving
        statuses, never_accepted = self.send(requests_)
        sent_seconds = time.monotonic() - started
        killer.join()
        last_kill = time.monotonic()
        deadline = last_kill + self.args.timeout
        states = self.states()
        while time.monotonic() < deadline:
            states = self.states()
            if set(states) <= {"done", "failed", "dead"}:
                break
            time.sleep(1)
        drained = round(time.monotonic() - last_kill, 1)
        rows, distinct = self.suppliers(numbers)
        unsettled = sum(
            count
            for state, count in states.items()
            if state not in ("done", "failed", "dead")
        )
        return {
            "events_sent": len(numbers) + len(numbers) // 5,
            "distinct_events": len(numbers),
            "requests_2xx_first_try": sum(1 for s in statuses if 200 <= s < 300),
            "first_try_statuses": {
                str(code): statuses.count(code) for code in sorted(set(statuses))
            },
            "requests_never_accepted": never_accepted,
            "requests": len(statuses),
            "send_seconds": round(sent_seconds, 1),
            "kills": kills,
            "message_states": states,
            "unprocessed": unsettled,
            "suppliers_created": rows,
            "duplicates": rows - distinct,
            "lost": len(numbers) - distinct,
            "seconds_to_drain_after_last_kill": drained if not unsettled else None,
        }


def main():
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--odoo-pid", type=int, required=True)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--kill-interval", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    result = WorkerKill(args).run()
    table = (
        f"events sent {result['events_sent']} ({result['distinct_events']} distinct),"
        f" requests 2xx at first try {result['requests_2xx_first_try']}/"
        f"{result['requests']} (the rest sent again),"
        f" workers killed {sum(k['killed'] for k in result['kills'])} in"
        f" {len(result['kills'])} rounds; unprocessed {result['unprocessed']},"
        f" suppliers {result['suppliers_created']}, duplicates"
        f" {result['duplicates']}, lost {result['lost']}; drained"
        f" {result['seconds_to_drain_after_last_kill']} s after the last kill"
    )
    report(result, table, args.output)
    ok = not result["unprocessed"] and not result["duplicates"] and not result["lost"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
