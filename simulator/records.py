"""What the simulator keeps and plays: recorded requests, fault rules, routes."""

import datetime
import json
from dataclasses import asdict, dataclass, field, fields
from urllib.parse import parse_qsl

FAULT_KINDS = ("status", "latency", "rate_limit", "timeout", "drop")


def _iso(timestamp):
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_body(payload, content_type=None):
    """Return ``(bytes, content_type)`` for a str, bytes, None or JSON value."""
    if payload is None:
        return b"", content_type or "text/plain; charset=utf-8"
    if isinstance(payload, bytes):
        return payload, content_type or "application/octet-stream"
    if isinstance(payload, str):
        return payload.encode(), content_type or "text/plain; charset=utf-8"
    return json.dumps(payload).encode(), content_type or "application/json"


@dataclass
class RecordedRequest:
    """One request received by the simulator; also what route handlers get."""

    seq: int
    method: str
    path: str
    query: str
    headers: dict  # lower-case names, repeated headers joined with ", "
    raw_body: bytes
    received_at: float
    fault: dict | None = None

    @property
    def body(self):
        return self.raw_body.decode("utf-8", errors="replace")

    @property
    def params(self):
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def webhook_id(self):
        return self.headers.get("webhook-id")

    def json(self):
        return json.loads(self.raw_body) if self.raw_body else None

    def to_dict(self):
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "body": self.body,
            "received_at": _iso(self.received_at),
            "received_ts": self.received_at,
            "fault": self.fault,
        }


@dataclass
class FaultRule:
    """A misbehaviour applied to the next ``count`` matching requests."""

    kind: str
    path_prefix: str = "/"
    count: int | None = None  # None: applies forever
    status: int | None = None
    retry_after: float | str | None = None
    latency_ms: float = 200
    seconds: float = 30.0
    body: object = None
    content_type: str | None = None
    method: str = "*"
    applied: int = field(default=0, compare=False)

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}, expected one of {FAULT_KINDS}"
            )
        if self.count is not None and self.count < 0:
            raise ValueError("fault count must be >= 0 or null")
        self.method = (self.method or "*").upper()
        if self.status is None:
            self.status = 429 if self.kind == "rate_limit" else 503
        if self.kind == "rate_limit" and self.retry_after is None:
            self.retry_after = 2

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise ValueError(f"a fault rule must be a JSON object, got {data!r}")
        allowed = {f.name for f in fields(cls)} - {"applied"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
        return cls(**data)

    @property
    def remaining(self):
        return None if self.count is None else max(self.count - self.applied, 0)

    def matches(self, method, path):
        if self.remaining == 0:
            return False
        if self.method not in ("*", method):
            return False
        return path.startswith(self.path_prefix)

    def to_dict(self):
        data = asdict(self)
        data["remaining"] = self.remaining
        return data

    def response(self, seq):
        """Return ``(status, headers, body)`` for ``status``/``rate_limit``."""
        headers = {}
        if self.retry_after is not None:
            retry_after = self.retry_after
            if isinstance(retry_after, float) and retry_after.is_integer():
                retry_after = int(retry_after)
            headers["Retry-After"] = str(retry_after)
        body = self.body
        if body is None:
            body = {"status": "error", "fault": self.kind, "received": seq}
        if self.content_type:
            headers["Content-Type"] = self.content_type
        return self.status, headers, body


@dataclass
class Route:
    """A handler for ``method`` (``*`` = any) on paths starting with a prefix."""

    method: str
    path_prefix: str
    handler: object  # callable(RecordedRequest) -> (status, headers, body)
    canned: dict | None = None  # the spec, for routes made by add_response()


def canned_handler(status, headers, body):
    """A route handler that always answers the same."""

    def handler(_request):
        return status, dict(headers), body

    return handler
