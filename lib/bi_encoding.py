"""Encode dataset rows for a reporting platform, and prove the load complete.

Everything here is deterministic: the same rows give the same bytes (gzip
without a timestamp, fixed column order, fixed number rendering), so a locked
period published twice is byte-for-byte identical. NDJSON lines are written
by PostgreSQL (see ``Dataset.ndjson_sql``); CSV is written here.

A row is a tuple in the dataset's column order. An upsert carries all its
columns; a tombstone only the key:

>>> columns = ["id", "supplier", "amount", "currency", "co"]
>>> rows = [(7, "Acme, EU", Decimal("12.50"), "EUR", "BE")]
>>> deleted = (8, None, None, None, None)
>>> print(encode_csv(columns, rows + [deleted], [True, False]).decode(), end="")
_op,id,supplier,amount,currency,co
upsert,7,"Acme, EU",12.50,EUR,BE
delete,8,,,,

Control totals sum an amount per currency and company:

>>> totals = ControlTotals([("amount", "currency", "co")], columns)
>>> totals.add(rows[0]); totals.add((9, "B", Decimal("-2.5"), "EUR", "BE"))
>>> totals.as_list()  # doctest: +NORMALIZE_WHITESPACE
[{'amount': 'amount', 'currency': 'EUR', 'company': 'BE', 'rows': 2,
  'total': '10.00'}]
"""

import csv
import datetime
import gzip
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal

CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
# level 6 is zlib's default: a fair trade of CPU against bytes on the wire
GZIP_LEVEL = 6


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def encode_csv(columns, rows, live_flags):
    """RFC 4180 CSV with a header in every chunk, so each chunk stands alone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["_op", *columns])
    blanks = [""] * (len(columns) - 1)
    for row, live in zip(rows, live_flags, strict=True):
        if live:
            writer.writerow(["upsert", *map(_csv_value, row)])
        else:
            writer.writerow(["delete", _csv_value(row[0]), *blanks])
    return buffer.getvalue().encode()


def compress(data):
    """gzip without a file name or time stamp: same input, same bytes.

    >>> compress(b"abc") == compress(b"abc")
    True
    >>> gzip.decompress(compress(b"abc"))
    b'abc'
    """
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


@dataclass(frozen=True)
class Delivered:
    """What the hub records of a delivered chunk."""

    rows: int
    tombstones: int
    raw_bytes: int
    sent: int
    sha256: str
    totals: list
    status: int
    seconds: float
    first_key: int
    last_key: int
    last_changed_at: datetime.datetime | None = None


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def content_hash(chunk_hashes):
    """The load's content hash: SHA-256 over its chunks' hashes, in order.

    Chunks are hashed one by one (a load can stop and resume days later, a
    running hash cannot be stored), so the whole is a hash of the list.

    >>> content_hash(["a", "b"]) == sha256(b"a\\nb")
    True
    """
    return sha256("\n".join(chunk_hashes).encode())


class ControlTotals:
    """Sums of amount columns per (currency, company), and row counts.

    ``specs`` are ``(amount column, currency column, company column)``.
    Tombstones are not added: they carry no amounts.
    """

    def __init__(self, specs, columns):
        position = {name: index for index, name in enumerate(columns)}
        self.specs = [
            (amount, position[amount], position[currency], position[company])
            for amount, currency, company in specs
        ]
        self.sums = {}

    def add(self, row):
        for amount, amount_at, currency_at, company_at in self.specs:
            key = (amount, row[currency_at] or "", row[company_at] or "")
            entry = self.sums.get(key)
            value = row[amount_at]
            value = Decimal(str(value)) if value is not None else Decimal(0)
            if entry is None:
                self.sums[key] = [value, 1]
            else:
                entry[0] += value
                entry[1] += 1

    def add_live(self, rows, live):
        """Add the ``rows`` whose ``live`` flag is true, a chunk at a time:
        grouped first, then each group's amounts summed by ``Decimal`` in one
        pass (the same sums and counts as :meth:`add` row by row).

        >>> totals = ControlTotals([("a", "c", "k")], ("a", "c", "k"))
        >>> totals.add_live([("1.10", "EUR", "M"), ("9", "EUR", "M"),
        ...                  (None, None, "M"), ("2.20", "EUR", "M")],
        ...                 [True, False, True, True])
        >>> [(item["currency"], item["rows"], item["total"])
        ...  for item in totals.as_list()]
        [('', 1, '0'), ('EUR', 2, '3.30')]
        """
        kept = [row for row, flag in zip(rows, live, strict=True) if flag]
        for amount, amount_at, currency_at, company_at in self.specs:
            groups = {}
            for row in kept:
                key = (row[currency_at] or "", row[company_at] or "")
                values = groups.get(key)
                if values is None:
                    groups[key] = values = []
                values.append(row[amount_at])
            for (currency, company), values in groups.items():
                present = [str(value) for value in values if value is not None]
                total = sum(map(Decimal, present), Decimal(0))
                entry = self.sums.setdefault((amount, currency, company), [0, 0])
                entry[0] += total
                entry[1] += len(values)

    def merge(self, listed):
        """Add totals in the form of :meth:`as_list` (another chunk's)."""
        for item in listed:
            key = (item["amount"], item["currency"], item["company"])
            entry = self.sums.setdefault(key, [Decimal(0), 0])
            entry[0] += Decimal(item["total"])
            entry[1] += item["rows"]

    def as_list(self):
        return [
            {
                "amount": amount,
                "currency": currency,
                "company": company,
                "rows": count,
                "total": str(total),
            }
            for (amount, currency, company), (total, count) in sorted(self.sums.items())
        ]


def manifest(load, dataset_columns, chunks, totals):
    """The document sent after the data: what the BI side must have received.

    ``load`` holds the identifying fields (publication, dataset, load id,
    mode, period, watermarks); ``chunks`` is a list of dicts with ``sequence``,
    ``rows``, ``tombstones``, ``sha256``.
    """
    return {
        **load,
        "columns": dataset_columns,
        "chunks": chunks,
        "rows": sum(chunk["rows"] for chunk in chunks),
        "tombstones": sum(chunk["tombstones"] for chunk in chunks),
        "totals": totals,
        "content_sha256": content_hash([chunk["sha256"] for chunk in chunks]),
    }


def compare(expected, acknowledged):
    """Differences between the manifest and the BI side's acknowledgement,
    each a sentence for the publication's owner (empty list: reconciled).

    >>> sent = {"rows": 2, "tombstones": 0, "content_sha256": "x",
    ...         "totals": [{"amount": "amount", "currency": "EUR",
    ...                     "company": "Main", "rows": 2, "total": "10.00"}]}
    >>> compare(sent, dict(sent))
    []
    >>> ack = dict(sent, rows=1, totals=[dict(sent["totals"][0], total="7.5")])
    >>> for line in compare(sent, ack): print(line)
    Rows: sent 2, the reporting platform counted 1.
    amount in EUR for Main: sent 10.00, the reporting platform summed 7.5.
    """
    differences = [
        f"The acknowledgement does not state {label}: the load cannot be "
        "reconciled without it."
        for field, label in (
            ("rows", "the rows"),
            ("tombstones", "the deletions"),
            ("totals", "the control totals"),
            ("content_sha256", "the content hash"),
        )
        if field not in acknowledged
    ]
    for field, label in (("rows", "Rows"), ("tombstones", "Deletions")):
        if field in acknowledged and acknowledged[field] != expected[field]:
            differences.append(
                f"{label}: sent {expected[field]}, the reporting platform "
                f"counted {acknowledged[field]}."
            )
    if "totals" in acknowledged:

        def by_key(totals):
            return {
                (item["amount"], item["currency"], item["company"]): Decimal(
                    str(item["total"])
                )
                for item in totals or []
            }

        sent, received = by_key(expected["totals"]), by_key(acknowledged["totals"])
        for key in sorted(set(sent) | set(received)):
            if sent.get(key, Decimal(0)) != received.get(key, Decimal(0)):
                amount, currency, company = key
                sent_text = _total_text(expected["totals"], key)
                received_text = _total_text(acknowledged["totals"], key)
                differences.append(
                    f"{amount} in {currency} for {company}: sent {sent_text}, "
                    f"the reporting platform summed {received_text}."
                )
    ack_hash = acknowledged.get("content_sha256")
    if ack_hash and ack_hash != expected["content_sha256"]:
        differences.append(
            "The content hash differs: the reporting platform did not store "
            "exactly the bytes that were sent."
        )
    return differences


def _total_text(totals, key):
    for item in totals or []:
        if (item["amount"], item["currency"], item["company"]) == key:
            return str(item["total"])
    return "nothing"
