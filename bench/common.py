"""What both benchmarks share: loopback HTTP clients, the JSON-RPC client,
the command-line options of the running Odoo, and the report."""

import argparse
import http.client
import json
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2

from lib import standard_webhooks


class _PerThread(threading.local):
    """Each benchmark thread's own keep-alive connection."""

    connection = None


class Poster:
    """Keep-alive HTTP POSTs from several threads, one connection each."""

    def __init__(self, base_url):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("the benchmark only talks to loopback")
        self.host, self.port = parsed.hostname, parsed.port
        self.local = _PerThread()

    def post(self, path, body, headers):
        for attempt in (1, 2):
            connection = self.local.connection
            if connection is None:
                connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=60
                )
                self.local.connection = connection
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
                continue
            return response.status, payload, (time.perf_counter() - started) * 1000
        raise RuntimeError("unreachable")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_concurrently(poster, requests_, concurrency):
    """POST every (path, body, headers); return statuses, latencies, seconds."""
    statuses, latencies = [], []
    lock = threading.Lock()

    def one(request):
        status, _payload, latency = poster.post(*request)
        with lock:
            statuses.append(status)
            latencies.append(latency)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, requests_))
    return statuses, latencies, time.perf_counter() - started


class JsonRpc:
    def __init__(self, poster, db, login, password):
        self.poster, self.db, self.password = poster, db, password
        self.uid = self.call("common", "login", db, login, password)

    def body(self, service, method, *args):
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": args},
            }
        ).encode()

    def call(self, service, method, *args):
        status, payload, _latency = self.poster.post(
            "/jsonrpc",
            self.body(service, method, *args),
            {"Content-Type": "application/json"},
        )
        answer = json.loads(payload)
        if status != 200 or "error" in answer:
            raise RuntimeError(f"JSON-RPC {method} failed: {answer.get('error')}")
        return answer["result"]

    def execute(self, model, method, *args):
        return self.call(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
        )

    def execute_kw(self, model, method, args, kwargs):
        return self.call(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )

    def create_body(self, values):
        return self.body(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            "res.partner",
            "create",
            [values],
        )


class BenchSession:
    """What every benchmark opens on the running Odoo: the HTTP poster, JSON-RPC
    as the admin, a database connection and a signed backend of its own."""

    def __init__(self, args, backend_values):
        self.args = args
        self.poster = Poster(args.url)
        self.rpc = JsonRpc(self.poster, args.db, args.login, args.password)
        self.db = connect_db(args.db)
        self.secret = standard_webhooks.generate_secret()
        self.backend_id = self.rpc.execute(
            "fih.backend",
            "create",
            {"rate_limit_per_minute": 0, "webhook_secret": self.secret}
            | backend_values,
        )
        self.path = f"/finance_hub/webhook/{backend_values['code']}"


def sign_requests(secret, requests_):
    """Sign at send time (the timestamp must be fresh) the requests whose
    headers are None: ``(path, body, headers)`` in, the same out."""
    for path, body, headers in requests_:
        if headers is None:
            headers = standard_webhooks.sign(
                secret, f"msg_{time.time_ns()}_{id(body)}", body
            )
            headers["Content-Type"] = "application/json"
        yield path, body, headers


def connect_db(db):
    """A direct, autocommit connection for setting up and counting."""
    connection = psycopg2.connect(dbname=db)
    connection.autocommit = True
    return connection


def argument_parser(description):
    """Options naming the running Odoo (scripts/bench.sh passes them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default="http://127.0.0.1:8269")
    parser.add_argument("--db", default="fih_bench")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--output", type=Path, help="where to write the JSON")
    return parser


def report(results, table, output):
    """Print the figures and the table; keep the JSON when asked."""
    print(json.dumps(results, indent=2))
    print()
    print(table)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2))
