"""A platform that does not push: it lists what is not yet exported and
forgets a document once it is acknowledged.

``GET <prefix>?cursor=<n>&limit=<n>`` answers
``{"documents": [...], "next_cursor": "<n>", "has_more": bool}`` with the
documents not yet acknowledged, in the order they were added;
``POST <prefix>/ack`` with ``{"ids": [...]}`` marks them exported.

The cursor is a position in the export queue, so a client that crashes
before acknowledging sees the same documents again from its saved cursor
(at-least-once, as real platforms do).
"""

import threading


class PullSource:
    def __init__(self):
        self.documents = []  # [{"id", "updated_at", "data"}] in export order
        self.acknowledged = set()
        self.ack_calls = []
        self.list_calls = 0
        self._lock = threading.Lock()

    def add(self, document_id, data, updated_at="2026-11-26T08:00:00Z"):
        with self._lock:
            self.documents.append(
                {"id": document_id, "updated_at": updated_at, "data": data}
            )

    def attach(self, sim, path_prefix):
        sim.add_route("GET", path_prefix, self._list)
        sim.add_route("POST", path_prefix + "/ack", self._ack)
        return self

    def _list(self, request):
        params = request.params
        start = int(params.get("cursor") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        with self._lock:
            self.list_calls += 1
            pending = [
                (position, doc)
                for position, doc in enumerate(self.documents)
                if position >= start and doc["id"] not in self.acknowledged
            ]
            page = pending[:limit]
            next_cursor = page[-1][0] + 1 if page else start
            # acknowledged documents before the cursor are gone for good; an
            # unacknowledged one is listed again from an older cursor
            return (
                200,
                {},
                {
                    "documents": [doc for _position, doc in page],
                    "next_cursor": str(next_cursor),
                    "has_more": len(pending) > limit,
                },
            )

    def _ack(self, request):
        ids = (request.json() or {}).get("ids") or []
        with self._lock:
            self.ack_calls.append(list(ids))
            self.acknowledged.update(ids)
        return 200, {}, {"acknowledged": len(ids)}
