"""A reporting platform's receiving end: loads chunks, checks and acknowledges.

It plays the BI side of publications: every chunk is unzipped, checked
against its SHA-256 header and stored under (load, sequence), so a chunk sent
twice counts once. On the manifest it recounts rows, deletions and control
totals from what it stored - independently of Odoo's figures - applies the
load to its table (replace, or upsert and delete by key) and answers with
its acknowledgement, or with 202 when told to acknowledge later.

Attach it to a running simulator: ``BiWarehouse().attach(sim)``.
"""

import csv
import gzip
import hashlib
import io
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

_CHUNK = re.compile(r"/(?P<pub>[^/]+)/loads/(?P<load>[^/]+)/chunks/(?P<seq>\d+)$")
_MANIFEST = re.compile(r"/(?P<pub>[^/]+)/loads/(?P<load>[^/]+)/manifest$")


class BiWarehouse:
    def __init__(self, acknowledge="sync"):
        self.acknowledge = acknowledge  # sync: in the manifest answer; async: 202
        self.lose_rows = 0  # pretend rows went missing (reconciliation tests)
        self.tables = {}  # publication code -> {key: row}
        self.chunks = {}  # (load id, sequence) -> (raw bytes, gzip body)
        self.manifests = {}  # load id -> manifest
        self.acknowledgements = {}  # load id -> acknowledgement
        self._lock = threading.Lock()
        # chunks are parsed in the background as they arrive, like a loader
        # staging files; the manifest waits for its chunks
        self._parser = ThreadPoolExecutor(1, thread_name_prefix="bi-warehouse")
        self._parsed = {}  # (load id, sequence) -> future of [(op, row)]

    def attach(self, sim, path_prefix="/publications"):
        sim.add_route("POST", path_prefix + "/", self.handle)
        return self

    # -- HTTP -----------------------------------------------------------------

    def handle(self, request):
        match = _CHUNK.search(request.path)
        if match:
            return self._chunk(request, match["load"], int(match["seq"]))
        match = _MANIFEST.search(request.path)
        if match:
            return self._manifest(request, match["pub"], match["load"])
        return 404, {}, {"error": "unknown path"}

    def _chunk(self, request, load_id, sequence):
        try:
            raw = gzip.decompress(request.raw_body)
        except OSError:
            return 400, {}, {"error": "the chunk is not gzip"}
        expected = request.headers.get("x-fih-chunk-sha256")
        if expected and hashlib.sha256(raw).hexdigest() != expected:
            return 400, {}, {"error": "the chunk does not match its SHA-256"}
        fmt = "csv" if "csv" in request.headers.get("content-type", "") else "ndjson"
        with self._lock:
            self.chunks[(load_id, sequence)] = (raw, request.raw_body)
            self._parsed[(load_id, sequence)] = self._parser.submit(
                lambda: list(parse(raw, fmt))
            )
        return 200, {}, {"load_id": load_id, "chunk": sequence}

    def _manifest(self, request, publication, load_id):
        manifest = json.loads(request.raw_body)
        with self._lock:
            self.manifests[load_id] = manifest
            acknowledgement = self._recount(manifest, load_id)
            self._apply(publication, manifest, load_id)
            self.acknowledgements[load_id] = acknowledgement
        if self.acknowledge == "async":
            return 202, {}, {"load_id": load_id, "status": "accepted"}
        return 200, {}, acknowledgement

    # -- reading back -----------------------------------------------------------

    def rows_of(self, load_id):
        """Every (op, row) of a load, in chunk order."""
        sequences = sorted(seq for (load, seq) in self.chunks if load == load_id)
        for sequence in sequences:
            yield from self._parsed[(load_id, sequence)].result()

    def bodies(self, load_id):
        """The gzip bodies of a load, in order (for byte-for-byte checks)."""
        return [
            self.chunks[key][1]
            for key in sorted(key for key in self.chunks if key[0] == load_id)
        ]

    def _recount(self, manifest, load_id):
        rows = tombstones = 0
        sums = {}
        specs = manifest.get("control_totals", [])
        for op, row in self.rows_of(load_id):
            if op == "delete":
                tombstones += 1
                continue
            rows += 1
            for spec in specs:
                key = (
                    spec["amount"],
                    row.get(spec["currency"]) or "",
                    row.get(spec["company"]) or "",
                )
                entry = sums.setdefault(key, [Decimal(0), 0])
                value = row.get(spec["amount"])
                entry[0] += (
                    Decimal(str(value)) if value not in (None, "") else Decimal(0)
                )
                entry[1] += 1
        hashes = [
            hashlib.sha256(self.chunks[key][0]).hexdigest()
            for key in sorted(key for key in self.chunks if key[0] == load_id)
        ]
        return {
            "load_id": load_id,
            "rows": rows - self.lose_rows,
            "tombstones": tombstones,
            "totals": [
                {"amount": a, "currency": c, "company": co, "rows": n, "total": str(t)}
                for (a, c, co), (t, n) in sorted(sums.items())
            ],
            "content_sha256": hashlib.sha256("\n".join(hashes).encode()).hexdigest(),
        }

    def _apply(self, publication, manifest, load_id):
        key = manifest["key"]
        table = {} if manifest.get("replace") else self.tables.get(publication, {})
        for op, row in self.rows_of(load_id):
            if op == "delete":
                table.pop(str(row[key]), None)
            else:
                table[str(row[key])] = row
        self.tables[publication] = table


def parse(raw, fmt):
    """Yield ``(op, row)`` from an uncompressed chunk."""
    text = raw.decode()
    if fmt == "csv":
        for record in csv.DictReader(io.StringIO(text)):
            op = record.pop("_op")
            yield op, record
        return
    for line in text.splitlines():
        row = json.loads(line, parse_float=Decimal)
        yield row.pop("_op"), row
