r"""Rows read with PostgreSQL's ``COPY (<query>) TO STDOUT``, spooled in chunks.

A load into a warehouse or into Parquet files reads its rows this way:
PostgreSQL renders each row once, in C, as CSV (which a warehouse's
``COPY ... FROM STDIN`` takes as it is, and Arrow parses in C with the
columns' types); the hub turns into Python values only the key and change
time of a chunk's first and last line, which tell a resumed load where to
start. The control totals are summed by Arrow.

Every line starts with the same technical fields, in this order::

    change time, key, live flag, <what the destination takes>

psycopg2 hands each row to :meth:`ChunkSpool.write`, which writes the rows
to a temporary file a chunk at a time, remembers where each chunk starts
and ends, its first and last line, and hands each chunk's bytes to
``on_chunk`` (the destination's worker, in a thread of its own, delivers it
while PostgreSQL renders the next rows). Nothing else runs on the reading
connection while the COPY lasts; the rows are counted exactly for the
progress. Memory holds a chunk and the few the worker has not taken yet;
the file holds the rest (hand-made: psycopg2 has no chunked COPY reader).

>>> import tempfile
>>> with tempfile.TemporaryFile() as spool:
...     chunks = ChunkSpool(spool, 2)
...     for line in (b",1,t,2026-10-01\n", b",2,t,\n", b",5,f,\n"):
...         chunks.write(line)
...     chunks.finish()
...     sizes = [chunk.rows for chunk in chunks.chunks]
...     _ = spool.seek(chunks.chunks[1].start)
...     sizes, chunks.rows, spool.read()
([2, 1], 3, b',5,f,\n')
>>> head(chunks.chunks[0].last)
Head(changed_at=None, key=2, live=True)
"""

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pyarrow as pa  # noqa: F401 - the examples below use it
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

TECHNICAL = ("_changed_at", "_key", "_live", "_date")


class Skipped(Exception):
    """A chunk not delivered because an earlier one failed."""


class ReferenceMismatch(Exception):
    """A chunk of a locked period differs from its first publication."""

    def __init__(self, sequence):
        super().__init__(sequence)
        self.sequence = sequence


class RowCountMismatch(ValueError):
    """A chunk parsed into another number of rows than PostgreSQL wrote."""

    def __init__(self, expected, parsed):
        super().__init__(f"{expected} rows written, {parsed} read back")
        self.expected = expected
        self.parsed = parsed


@dataclass(frozen=True)
class Head:
    """The technical fields of a line that say where a load resumes."""

    changed_at: datetime | None
    key: int
    live: bool


@dataclass(frozen=True)
class Chunk:
    """Where a chunk's lines are in the spool, and its first and last line."""

    start: int
    end: int
    rows: int
    first: bytes
    last: bytes


class ChunkSpool:
    """The file psycopg2's ``copy_expert`` writes a COPY's rows to: a
    binary temporary ``file``, cut into chunks of ``chunk_size`` rows."""

    def __init__(self, file, chunk_size, on_chunk=None):
        self.file = file
        self.chunk_size = max(int(chunk_size), 1)
        self.on_chunk = on_chunk
        self.chunks = []
        self.rows = 0
        self._pending = []
        self._offset = 0
        self.error = None

    def write(self, line):  # pylint: disable=method-required-super
        # psycopg2's copy_expert calls it, once per row
        if self.error is not None:
            return  # the file failed: the rest of the COPY is read and dropped
        self._pending.append(line)
        self.rows += 1
        if len(self._pending) >= self.chunk_size:
            self._close()

    def _close(self):
        lines, self._pending = self._pending, []
        data = b"".join(lines)
        try:
            self.file.write(data)
        except OSError as exc:
            # kept for finish(): raising inside psycopg2's COPY would leave
            # its connection in the middle of the COPY
            self.error = exc
            return
        start, self._offset = self._offset, self._offset + len(data)
        chunk = Chunk(start, self._offset, len(lines), lines[0], lines[-1])
        self.chunks.append(chunk)
        if self.on_chunk is not None:
            self.on_chunk(chunk, data)

    def finish(self):
        """After the COPY returned: the last, shorter chunk; or the error
        that stopped the spool (a full disk).

        >>> class Full:
        ...     def write(self, data):
        ...         raise OSError(28, "No space left on device")
        >>> spool = ChunkSpool(Full(), 1)
        >>> spool.write(b",1,t,\\n"); spool.write(b",2,t,\\n")
        >>> spool.finish()
        Traceback (most recent call last):
        ...
        OSError: [Errno 28] No space left on device
        """
        if self._pending and self.error is None:
            self._close()
        if self.error is not None:
            raise self.error
        self.file.flush()


def head(line):
    """The change time, key and live flag of a CSV line (the first three
    fields never need quoting).

    >>> head(b"2026-10-01 08:30:00.25,42,f,,x\\n")
    Head(changed_at=datetime.datetime(2026, 10, 1, 8, 30, 0, 250000), key=42, \
live=False)
    >>> head(b",7,t,2026-10-01,x\\n").key
    7
    """
    changed, key, live = line.split(b",", 3)[:3]
    return Head(
        changed_at=datetime.fromisoformat(changed.decode()) if changed else None,
        key=int(key),
        live=live == b"t",
    )


def read_chunk(data, line_columns, types, include):
    """An Arrow table of the ``include`` columns of a chunk of CSV lines
    whose fields are ``line_columns``, typed by ``types`` (a name: Arrow
    type mapping): decimals from their exact text, NULL only where
    PostgreSQL wrote one (an unquoted empty field), so a text "N/A" or
    "NULL" stays text and a quoted empty one stays empty.

    >>> t = read_chunk(b',1,t,,N/A,10.50\\n,2,f,,"",\\n',
    ...                ["_changed_at", "_key", "_live", "_date", "name", "amount"],
    ...                {"_live": pa.bool_(), "amount": pa.decimal128(38, 2)},
    ...                ["_live", "name", "amount"])
    >>> t.column("name").to_pylist(), t.column("amount").to_pylist()
    (['N/A', ''], [Decimal('10.50'), None])
    >>> t.column("_live").to_pylist()
    [True, False]
    """
    return pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(
            column_names=list(line_columns), use_threads=False
        ),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={
                name: kind for name, kind in types.items() if name in include
            },
            include_columns=list(include),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


def totals_of(arrow_table, totals):
    """Control totals of the rows of an Arrow table, computed by Arrow, in
    the form of ``bi_encoding.ControlTotals.as_list``.

    >>> from .bi_datasets import Total
    >>> t = pa.table({"a": pa.array(["1.10", "2.20", None]).cast(
    ...     pa.decimal128(38, 2)), "cur": ["EUR", "EUR", "EUR"],
    ...     "company": ["M", "M", "M"]})
    >>> totals_of(t, [Total("a", "cur")])
    [{'amount': 'a', 'currency': 'EUR', 'company': 'M', 'rows': 3, 'total': '3.30'}]
    """
    listed = []
    for total in totals:
        keys = list(dict.fromkeys((total.currency, total.company)))
        grouped = arrow_table.group_by(keys).aggregate(
            [
                (total.amount, "sum"),
                (total.amount, "count", pc.CountOptions(mode="all")),
            ]
        )
        for group in grouped.to_pylist():
            value = group[f"{total.amount}_sum"]
            listed.append(
                {
                    "amount": total.amount,
                    "currency": group[total.currency] or "",
                    "company": group[total.company] or "",
                    "rows": group[f"{total.amount}_count"],
                    "total": str(value if value is not None else Decimal(0)),
                }
            )
    return sorted(
        listed, key=lambda item: (item["amount"], item["currency"], item["company"])
    )
