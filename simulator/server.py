"""Receiver: plays the external systems that Odoo calls (procurement, AP, BI).

Every request outside ``/_sim/`` is recorded, may be hit by a fault rule, and
is then answered by a registered route, a canned response or the default
``{"status": "ok", "received": <seq>}``. ``/_sim/`` is the JSON control API
(see README.md); the same operations exist as methods on
:class:`SimulatorServer`.
"""

import collections
import http.server
import json
import socket
import socketserver
import sys
import threading
import time
from urllib.parse import parse_qsl, urlsplit

from .loopback import ensure_loopback_host
from .records import FaultRule, RecordedRequest, Route, canned_handler, encode_body

CONTROL_PREFIX = "/_sim"
DEFAULT_RECORD_LIMIT = 100_000
MAX_BODY_BYTES = 64 * 1024 * 1024
# Clients that time out or see a dropped socket make our writes fail; that
# is the expected outcome of a fault, not a server error worth a traceback.
CLIENT_GONE_ERRORS = (
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    TimeoutError,
)


class SimulatorServer:
    """Threaded loopback HTTP server recording requests and injecting faults.

    >>> with SimulatorServer() as sim:  # doctest: +SKIP
    ...     sim.add_fault({"kind": "status", "status": 503, "count": 2})
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        record_limit=DEFAULT_RECORD_LIMIT,
        on_request=None,
    ):
        ensure_loopback_host(host)
        host = host.strip("[]")
        self.host = "127.0.0.1" if host.lower() == "localhost" else host
        self.port = port
        self.on_request = on_request
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._records = collections.deque(maxlen=record_limit)
        self._seq = 0
        self._faults = []
        self._routes = []
        self._stopping = threading.Event()
        self._httpd = None
        self._thread = None
        self._control_routes = {
            ("GET", "/health"): lambda query, body: {"status": "ok"},
            ("GET", "/requests"): self._api_list_requests,
            ("DELETE", "/requests"): self._api_clear_requests,
            ("GET", "/webhook-ids"): self._api_webhook_ids,
            ("GET", "/faults"): lambda query, body: self.faults(),
            ("POST", "/faults"): self._api_set_faults,
            ("DELETE", "/faults"): lambda query, body: {"cleared": self.clear_faults()},
            ("GET", "/responses"): lambda query, body: self.responses(),
            ("POST", "/responses"): self._api_add_responses,
            ("DELETE", "/responses"): self._api_clear_responses,
            ("POST", "/reset"): self._api_reset,
        }

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        if self._httpd is not None:
            return self
        self._stopping.clear()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._httpd = _HTTPServer((self.host, self.port), self, family)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        # wakes handlers sleeping in latency/timeout faults
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self):
        """Run in the calling thread until :meth:`stop` is called elsewhere."""
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        if self._httpd is None:
            raise RuntimeError("the simulator is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- recorded requests -------------------------------------------------

    def requests(self, path_prefix=None, since=0):
        """Recorded requests (oldest first), optionally under a path prefix."""
        with self._lock:
            return [
                record
                for record in self._records
                if record.seq > since
                and (path_prefix is None or record.path.startswith(path_prefix))
            ]

    def clear_requests(self):
        with self._lock:
            cleared = len(self._records)
            self._records.clear()
            return cleared

    def unique_webhook_ids(self, path_prefix=None):
        return {
            record.webhook_id
            for record in self.requests(path_prefix)
            if record.webhook_id is not None
        }

    def wait_for_requests(self, count, path_prefix=None, timeout=5.0):
        """Block until ``count`` requests are recorded; raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.requests(path_prefix)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} requests under {path_prefix or '/'}, "
                        f"got {len(found)}"
                    )
                self._changed.wait(remaining)

    # -- faults ------------------------------------------------------------

    def set_faults(self, rules):
        """Replace the fault rules (dicts or :class:`FaultRule`)."""
        parsed = [FaultRule.from_dict(rule) for rule in rules]
        with self._lock:
            self._faults = parsed
        return parsed

    def add_fault(self, rule=None, **kwargs):
        rule = FaultRule.from_dict(rule if rule is not None else kwargs)
        with self._lock:
            self._faults.append(rule)
        return rule

    def clear_faults(self):
        with self._lock:
            cleared = len(self._faults)
            self._faults = []
            return cleared

    def faults(self):
        with self._lock:
            return [rule.to_dict() for rule in self._faults]

    # -- routes and canned responses ---------------------------------------

    def add_route(self, method, path_prefix, handler):
        """Register ``handler(request) -> (status, headers, body)``.

        The longest matching prefix wins; on a tie the latest registration.
        ``method`` may be ``"*"``. ``body`` may be bytes, str, None or any
        JSON-serialisable value.
        """
        if path_prefix.startswith(CONTROL_PREFIX + "/"):
            raise ValueError(f"{CONTROL_PREFIX}/ is reserved for the control API")
        route = Route((method or "*").upper(), path_prefix, handler)
        with self._lock:
            self._routes.append(route)
        return route

    def remove_route(self, route):
        with self._lock:
            self._routes = [item for item in self._routes if item is not route]

    def add_response(
        self,
        path_prefix,
        status=200,
        body="",
        content_type="application/json",
        headers=None,
        method="*",
    ):
        """Answer requests under ``path_prefix`` with a fixed response."""
        method = (method or "*").upper()
        spec = {
            "path_prefix": path_prefix,
            "method": method,
            "status": int(status),
            "content_type": content_type,
            "headers": dict(headers or {}),
            "body": body,
        }
        response_headers = {**spec["headers"], "Content-Type": content_type}
        route = Route(
            method,
            path_prefix,
            canned_handler(spec["status"], response_headers, body),
            canned=spec,
        )
        with self._lock:
            # re-registering a prefix replaces it rather than piling up
            self._routes = [
                item
                for item in self._routes
                if not (
                    item.canned
                    and item.path_prefix == path_prefix
                    and item.method == method
                )
            ]
            self._routes.append(route)
        return route

    def responses(self):
        with self._lock:
            return [route.canned for route in self._routes if route.canned]

    def clear_responses(self):
        with self._lock:
            before = len(self._routes)
            self._routes = [route for route in self._routes if not route.canned]
            return before - len(self._routes)

    def reset(self):
        """Forget requests, faults and canned responses (keeps add_route ones)."""
        self.clear_requests()
        self.clear_faults()
        self.clear_responses()

    # -- request processing (called from handler threads) ------------------

    def _record(self, method, path, query, headers, raw_body):
        with self._changed:
            self._seq += 1
            index, rule = next(
                (
                    (index, rule)
                    for index, rule in enumerate(self._faults)
                    if rule.matches(method, path)
                ),
                (None, None),
            )
            fault = None
            if rule is not None:
                rule.applied += 1
                fault = {"kind": rule.kind, "rule": index}
                if rule.kind in ("status", "rate_limit"):
                    fault["status"] = rule.status
            record = RecordedRequest(
                seq=self._seq,
                method=method,
                path=path,
                query=query,
                headers=headers,
                raw_body=raw_body,
                received_at=time.time(),
                fault=fault,
            )
            self._records.append(record)
            self._changed.notify_all()
        if self.on_request is not None:
            self.on_request(record)
        return record, rule

    def _pause(self, seconds):
        """Sleep, but return early when the server stops."""
        self._stopping.wait(max(seconds, 0))

    def _find_route(self, method, path):
        with self._lock:
            candidates = [
                (len(route.path_prefix), position, route)
                for position, route in enumerate(self._routes)
                if route.method in ("*", method) and path.startswith(route.path_prefix)
            ]
        return max(candidates, key=lambda item: item[:2])[2] if candidates else None

    def _dispatch(self, record):
        route = self._find_route(record.method, record.path)
        if route is None:
            return 200, {}, {"status": "ok", "received": record.seq}
        try:
            return route.handler(record)
        except Exception as exc:  # noqa: BLE001 - a broken handler must not kill the server
            return 500, {}, {"status": "error", "error": f"{type(exc).__name__}: {exc}"}

    def _control(self, method, path, query, raw_body):
        endpoint = path[len(CONTROL_PREFIX) :].rstrip("/")
        api = self._control_routes.get((method, endpoint))
        if api is None:
            return 404, {}, {"error": f"no control endpoint {method} {path}"}
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
            return 200, {}, api(dict(parse_qsl(query)), body)
        except (ValueError, TypeError) as exc:
            return 400, {}, {"error": str(exc)}

    def _api_list_requests(self, query, body):
        since = int(query.get("since") or 0)
        records = self.requests(query.get("path_prefix"), since=since)
        return [record.to_dict() for record in records]

    def _api_clear_requests(self, query, body):
        return {"cleared": self.clear_requests()}

    def _api_webhook_ids(self, query, body):
        return sorted(self.unique_webhook_ids(query.get("path_prefix")))

    def _api_set_faults(self, query, body):
        rules = body if isinstance(body, list) else [body] if body else []
        return [rule.to_dict() for rule in self.set_faults(rules)]

    def _api_add_responses(self, query, body):
        specs = body if isinstance(body, list) else [body]
        for spec in specs:
            if not isinstance(spec, dict) or "path_prefix" not in spec:
                raise ValueError("a canned response needs at least a path_prefix")
            self.add_response(**spec)
        return self.responses()

    def _api_clear_responses(self, query, body):
        return {"cleared": self.clear_responses()}

    def _api_reset(self, query, body):
        self.reset()
        return {"status": "ok"}


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many keep-alive connections

    def __init__(self, address, simulator, family):
        self.address_family = family
        self.simulator = simulator
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup we do not need
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], CLIENT_GONE_ERRORS):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real systems
    server_version = "FIH-Simulator/1.0"
    disable_nagle_algorithm = True  # avoids 40 ms delayed-ACK stalls
    timeout = 120  # idle keep-alive connections must not pin threads forever

    def log_message(self, format, *args):  # noqa: A002 - signature of the base
        pass

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise ValueError("request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _respond(self, status, headers, payload):
        headers = dict(headers or {})
        content_type = next(
            (
                value
                for name, value in headers.items()
                if name.lower() == "content-type"
            ),
            None,
        )
        body, content_type = encode_body(payload, content_type)
        try:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-type", "content-length"):
                    self.send_header(name, str(value))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except CLIENT_GONE_ERRORS:
            self.close_connection = True

    def _handle(self):
        simulator = self.server.simulator
        parts = urlsplit(self.path)
        path = parts.path or "/"
        try:
            raw_body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._respond(400, {}, {"error": f"unreadable request body: {exc}"})
            return
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._respond(
                *simulator._control(self.command, path, parts.query, raw_body)
            )
            return
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        record, rule = simulator._record(
            self.command, path, parts.query, headers, raw_body
        )
        if rule is not None:
            if rule.kind == "drop":
                self.close_connection = True
                return
            if rule.kind in ("status", "rate_limit"):
                self._respond(*rule.response(record.seq))
                return
            if rule.kind == "latency":
                simulator._pause(rule.latency_ms / 1000)
            elif rule.kind == "timeout":
                simulator._pause(rule.seconds)
        self._respond(*simulator._dispatch(record))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle
