"""Client for the ``/_sim/`` control API of a simulator in another process."""

import http.client
import json
from urllib.parse import urlencode

from .loopback import ensure_loopback_url


class SimulatorError(RuntimeError):
    """The control API answered with an error status."""


class SimulatorClient:
    """Same operations as :class:`~simulator.server.SimulatorServer`, over HTTP."""

    def __init__(self, base_url, timeout=5):
        parts = ensure_loopback_url(base_url)
        self.base_url = base_url.rstrip("/")
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.timeout = timeout

    def _call(self, method, endpoint, payload=None, **query):
        query = {key: value for key, value in query.items() if value is not None}
        target = f"{self._prefix}/_sim{endpoint}"
        if query:
            target += "?" + urlencode(query)
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection = http.client.HTTPConnection(
            self._host, self._port, timeout=self.timeout
        )
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        result = json.loads(data) if data else None
        if response.status >= 400:
            raise SimulatorError(f"{method} {target} -> {response.status}: {result}")
        return result

    def health(self):
        return self._call("GET", "/health")

    def requests(self, path_prefix=None, since=0):
        """Recorded requests as dicts (see ``RecordedRequest.to_dict``)."""
        return self._call(
            "GET", "/requests", path_prefix=path_prefix, since=since or None
        )

    def clear_requests(self):
        return self._call("DELETE", "/requests")["cleared"]

    def unique_webhook_ids(self, path_prefix=None):
        return set(self._call("GET", "/webhook-ids", path_prefix=path_prefix))

    def set_faults(self, rules):
        return self._call("POST", "/faults", list(rules))

    def faults(self):
        return self._call("GET", "/faults")

    def clear_faults(self):
        return self._call("DELETE", "/faults")["cleared"]

    def add_response(self, path_prefix, **spec):
        return self._call("POST", "/responses", {"path_prefix": path_prefix, **spec})

    def responses(self):
        return self._call("GET", "/responses")

    def clear_responses(self):
        return self._call("DELETE", "/responses")["cleared"]

    def reset(self):
        return self._call("POST", "/reset")
