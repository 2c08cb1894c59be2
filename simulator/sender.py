"""Sender: plays a system pushing Standard-Webhooks-signed events into Odoo.

One keep-alive ``http.client`` connection per thread, so a benchmark with
``concurrency=8`` reuses 8 sockets instead of opening one per request.
"""

import collections
import http.client
import json
import math
import random
import select
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ._signing import standard_webhooks
from .loopback import ensure_loopback_url

HISTORY_LIMIT = 10_000


def new_webhook_id():
    return f"msg_{uuid.uuid4().hex}"


def encode_payload(payload):
    """Return the request body bytes for bytes, str or a JSON value."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def batch_body(events):
    return {"events": list(events)}


def shuffled(items, seed=0):
    """Return a copy of ``items`` in a seeded random (out-of-order) order."""
    items = list(items)
    random.Random(seed).shuffle(items)
    return items


def _parse_response(data, content_type):
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _peer_closed(sock):
    """An idle keep-alive socket that is readable was closed by the server."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _percentile(sorted_values, percent):
    if not sorted_values:
        return None
    rank = max(math.ceil(percent / 100 * len(sorted_values)), 1)
    return round(sorted_values[rank - 1], 3)


class _PerThread(threading.local):
    """Each sending thread's own keep-alive connection."""

    connection = None


@dataclass
class _SentRequest:
    body: bytes
    content_type: str
    headers: dict | None
    timestamp: int
    sign: bool
    secret_override: str | None


class WebhookSender:
    """Posts signed webhooks to a loopback URL (normally an Odoo endpoint)."""

    def __init__(self, url, secret=None, timeout=10, headers=None):
        parts = ensure_loopback_url(url)
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.default_headers = dict(headers or {})
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = _PerThread()
        self._lock = threading.Lock()
        self._connections = []
        self._history = collections.OrderedDict()

    # -- plumbing ----------------------------------------------------------

    def _connection(self):
        connection = self._local.connection
        if connection is None:
            factory = (
                http.client.HTTPSConnection
                if self._https
                else http.client.HTTPConnection
            )
            connection = factory(self._host, self._port, timeout=self.timeout)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        elif connection.sock is not None and _peer_closed(connection.sock):
            connection.close()  # http.client reconnects on the next request
        return connection

    def _build_headers(
        self, body, webhook_id, timestamp, headers, content_type, sign, secret
    ):
        request_headers = {"Content-Type": content_type, **self.default_headers}
        if sign:
            if not secret:
                raise ValueError("no secret to sign with: pass secret= or sign=False")
            request_headers.update(
                standard_webhooks.sign(secret, webhook_id, body, timestamp=timestamp)
            )
        else:
            request_headers["webhook-id"] = webhook_id
            request_headers["webhook-timestamp"] = str(timestamp)
        for name, value in (headers or {}).items():
            # case-insensitive override; None removes the header (negative tests)
            for existing in [
                key for key in request_headers if key.lower() == name.lower()
            ]:
                del request_headers[existing]
            if value is not None:
                request_headers[name] = str(value)
        return request_headers

    def _post(self, body, request_headers):
        """Return ``(status, parsed body, headers, elapsed ms)``; raises on I/O."""
        connection = self._connection()
        started = time.perf_counter()
        try:
            connection.request("POST", self._target, body=body, headers=request_headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()  # never reuse a socket in an unknown state
            raise
        elapsed_ms = (time.perf_counter() - started) * 1000
        response_headers = {}
        for name, value in response.getheaders():
            key = name.lower()
            response_headers[key] = (
                f"{response_headers[key]}, {value}"
                if key in response_headers
                else value
            )
        parsed = _parse_response(data, response_headers.get("content-type", ""))
        return response.status, parsed, response_headers, elapsed_ms

    def _remember(self, webhook_id, sent):
        with self._lock:
            self._history[webhook_id] = sent
            self._history.move_to_end(webhook_id)
            while len(self._history) > HISTORY_LIMIT:
                self._history.popitem(last=False)

    # -- public API --------------------------------------------------------

    def send(
        self,
        payload,
        webhook_id=None,
        timestamp=None,
        headers=None,
        content_type="application/json",
        *,
        sign=True,
        secret_override=None,
    ):
        """Send one signed request; return ``(status, json_or_text, headers)``.

        ``headers`` override the computed ones (a ``None`` value removes one);
        ``sign=False`` omits ``webhook-signature``; ``secret_override`` signs
        with another secret, e.g. to test rejection or secret rotation.
        """
        body = encode_payload(payload)
        webhook_id = webhook_id or new_webhook_id()
        timestamp = int(time.time() if timestamp is None else timestamp)
        self._remember(
            webhook_id,
            _SentRequest(body, content_type, headers, timestamp, sign, secret_override),
        )
        request_headers = self._build_headers(
            body,
            webhook_id,
            timestamp,
            headers,
            content_type,
            sign,
            secret_override or self.secret,
        )
        status, parsed, response_headers, _elapsed = self._post(body, request_headers)
        return status, parsed, response_headers

    def send_event(self, event, **kwargs):
        return self.send(event, **kwargs)

    def send_batch(self, events, **kwargs):
        return self.send(batch_body(events), **kwargs)

    @property
    def sent_webhook_ids(self):
        with self._lock:
            return list(self._history)

    def send_duplicate(self, webhook_id=None, fresh_timestamp=True):
        """Re-send an earlier request (default: the last) with the same webhook-id.

        A fresh timestamp mimics a sender's retry; ``fresh_timestamp=False``
        replays the original signature, as an attacker replaying a capture would.
        """
        with self._lock:
            if not self._history:
                raise ValueError("nothing has been sent yet")
            webhook_id = webhook_id or next(reversed(self._history))
            if webhook_id not in self._history:
                raise ValueError(f"webhook-id {webhook_id!r} was never sent")
            sent = self._history[webhook_id]
        timestamp = int(time.time()) if fresh_timestamp else sent.timestamp
        request_headers = self._build_headers(
            sent.body,
            webhook_id,
            timestamp,
            sent.headers,
            sent.content_type,
            sent.sign,
            sent.secret_override or self.secret,
        )
        status, parsed, response_headers, _elapsed = self._post(
            sent.body, request_headers
        )
        return status, parsed, response_headers

    def send_many(
        self,
        events,
        batch_size=1,
        concurrency=1,
        duplicate_ratio=0.0,
        shuffle=False,
        seed=0,
    ):
        """Deliver ``events`` and return a summary for tests and benchmarks.

        ``batch_size`` 1 posts each event as the body, more posts
        ``{"events": [...]}``. ``duplicate_ratio`` re-sends that share of the
        requests (same webhook-id and body) at a random later position;
        ``shuffle`` delivers events out of order. Both use ``seed``.
        """
        if batch_size < 1 or concurrency < 1:
            raise ValueError("batch_size and concurrency must be >= 1")
        if duplicate_ratio < 0:
            raise ValueError("duplicate_ratio must be >= 0")
        rng = random.Random(seed)
        events = list(events)
        if shuffle:
            rng.shuffle(events)
        plan = []
        for position, start in enumerate(range(0, len(events), batch_size)):
            chunk = events[start : start + batch_size]
            payload = chunk[0] if batch_size == 1 else batch_body(chunk)
            plan.append((float(position), new_webhook_id(), encode_payload(payload)))
        originals = len(plan)
        duplicates = round(originals * duplicate_ratio) if originals else 0
        if duplicates:
            picks = (
                rng.sample(range(originals), duplicates)
                if duplicates <= originals
                else rng.choices(range(originals), k=duplicates)
            )
            for index in picks:
                position, webhook_id, body = plan[index]
                # a sort key after the original keeps "duplicate follows original"
                plan.append((rng.uniform(position, originals), webhook_id, body))
            plan.sort(key=lambda item: item[0])

        def deliver(item):
            _position, webhook_id, body = item
            started = time.perf_counter()
            try:
                request_headers = self._build_headers(
                    body,
                    webhook_id,
                    int(time.time()),
                    None,
                    "application/json",
                    True,
                    self.secret,
                )
                status, _parsed, _headers, elapsed_ms = self._post(
                    body, request_headers
                )
                return str(status), None, elapsed_ms
            except Exception as exc:  # noqa: BLE001 - counted as a failed send
                elapsed_ms = (time.perf_counter() - started) * 1000
                return None, type(exc).__name__, elapsed_ms

        started = time.perf_counter()
        if concurrency == 1:
            results = [deliver(item) for item in plan]
        else:
            with ThreadPoolExecutor(concurrency, thread_name_prefix="sender") as pool:
                results = list(pool.map(deliver, plan))
        elapsed = time.perf_counter() - started

        status_counts = collections.Counter(
            status for status, _, _ in results if status
        )
        errors = collections.Counter(error for _, error, _ in results if error)
        latencies = [round(latency, 3) for _, _, latency in results]
        ordered = sorted(latencies)
        return {
            "events": len(events),
            "requests": len(plan),
            "duplicates": duplicates,
            "batch_size": batch_size,
            "concurrency": concurrency,
            "ok": sum(
                count for status, count in status_counts.items() if status[0] == "2"
            ),
            "status_counts": dict(sorted(status_counts.items())),
            "errors": dict(sorted(errors.items())),
            "elapsed_s": round(elapsed, 3),
            "requests_per_s": round(len(plan) / elapsed, 1) if elapsed else None,
            "events_per_s": round(len(events) / elapsed, 1) if elapsed else None,
            "latency_ms": {
                "min": ordered[0] if ordered else None,
                "p50": _percentile(ordered, 50),
                "p95": _percentile(ordered, 95),
                "p99": _percentile(ordered, 99),
                "max": ordered[-1] if ordered else None,
                "mean": round(sum(ordered) / len(ordered), 3) if ordered else None,
            },
            "latencies_ms": latencies,
        }

    def close(self):
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = _PerThread()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
