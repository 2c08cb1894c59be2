"""Parquet files of a publication: typed Arrow columns, files confined to
an administrator's folder, written under a temporary name then renamed.

One file per dataset and period (``spend/spend_2026-10-01_2026-10-31.parquet``),
per full reload (``spend/spend_full.parquet``, replaced by the next) or per
incremental run (``spend/incremental/spend_<changes before>_<load>.parquet``,
with an ``_fih_op`` column: ``upsert`` or ``delete``), each with its manifest
beside it (``<file>.manifest.json``).

Money (the columns control totals sum) is ``decimal128`` with the scale of
the currencies' precision, other numbers ``decimal128(38, 10)``, dates
``date32``: nothing is rounded or turned into floats.

>>> from .bi_datasets import DATASETS
>>> schema = arrow_schema(DATASETS["payments"], money_scale=2)
>>> str(schema.field("amount").type), str(schema.field("payment_date").type)
('decimal128(38, 2)', 'date32[day]')
>>> file_name("spend", "period", period=("2026-10-01", "2026-10-31"))
'spend_2026-10-01_2026-10-31.parquet'
"""

import contextlib
import hashlib
import io
import os
import re
import shutil
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import bi_copy

OP_COLUMN = "_fih_op"
STAGING = ".fih-staging"
OWNER_FILE = ".fih-publication"  # which publication writes a dataset folder
OTHER_NUMERIC = pa.decimal128(38, 10)
_ARROW = {
    "integer": pa.int64(),
    "text": pa.string(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class FolderError(ValueError):
    """The folder cannot be written to; the message says why."""


def arrow_schema(dataset, money_scale, with_op=False):
    money = {total.amount for total in dataset.totals}
    fields = [pa.field(OP_COLUMN, pa.string(), nullable=False)] if with_op else []
    for column in dataset.columns:
        if column.type == "numeric":
            kind = (
                pa.decimal128(38, money_scale)
                if column.name in money
                else OTHER_NUMERIC
            )
        else:
            kind = _ARROW[column.type]
        fields.append(pa.field(column.name, kind))
    return pa.schema(fields)


def confine(root, relative):
    """The absolute folder ``relative`` names under ``root``, refusing any
    way out of it (absolute paths, ``..``, symbolic links leading outside).

    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> confine(root, "finance/bi") == os.path.join(os.path.realpath(root),
    ...                                             "finance", "bi")
    True
    >>> confine(root, "../etc")
    Traceback (most recent call last):
    ...
    lib.bi_parquet.FolderError: the folder may not contain '..'
    >>> confine(root, "/etc")
    Traceback (most recent call last):
    ...
    lib.bi_parquet.FolderError: give a folder relative to the export root, \
not an absolute path
    """
    if not root:
        raise FolderError(
            "no export root is configured: set fih_bi_parquet_root in the Odoo "
            "configuration file"
        )
    text = (relative or "").strip()
    if not text:
        raise FolderError("give a folder under the export root")
    if "\x00" in text or "\\" in text or any(ord(c) < 32 for c in text):
        raise FolderError("the folder contains control characters or backslashes")
    if os.path.isabs(text) or text.startswith("~"):
        raise FolderError(
            "give a folder relative to the export root, not an absolute path"
        )
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise FolderError("the folder may not contain '..'")
    for part in parts:
        if not _SAFE_PART.match(part):
            raise FolderError(
                f"the folder name {part!r} may only use letters, digits, '.', "
                "'-' and '_'"
            )
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, *parts))
    if os.path.commonpath([real_root, target]) != real_root:
        raise FolderError("the folder leads outside the export root")
    return target


def file_name(dataset_code, mode, period=None, run=None):
    """The file of a load: per period, per full reload, or per incremental
    run (``run`` is a sortable stamp and the load id).

    >>> file_name("spend", "incremental", run=("20261015T101500", "ab-12"))
    'spend_20261015T101500_ab-12.parquet'
    """
    if mode == "period":
        start, end = period
        return f"{dataset_code}_{start}_{end}.parquet"
    if mode == "incremental":
        stamp, load = run
        return f"{dataset_code}_{stamp}_{load}.parquet"
    return f"{dataset_code}_full.parquet"


def table_from_csv(schema, data, key_column):
    """An Arrow table of one chunk from PostgreSQL's COPY CSV lines (the
    change time, key and live flag, then the dataset's columns), typed by
    the schema (:func:`bi_copy.read_chunk`). A tombstone keeps only its key.

    >>> schema = pa.schema([("id", pa.int64()), ("name", pa.string()),
    ...                     ("amount", pa.decimal128(38, 2))])
    >>> t = table_from_csv(schema, b',1,t,1,N/A,10.50\\n,2,t,2,"",\\n', "id")
    >>> t.column("name").to_pylist(), t.column("amount").to_pylist()
    (['N/A', ''], [Decimal('10.50'), None])
    >>> table_from_csv(schema, b',1,t,1,x,1.234\\n', "id")
    Traceback (most recent call last):
    ...
    pyarrow.lib.ArrowInvalid: ...
    """
    with_op = schema.field(0).name == OP_COLUMN
    names = [name for name in schema.names if name != OP_COLUMN]
    parsed = bi_copy.read_chunk(
        data,
        ["_changed_at", "_key", "_live", *names],
        {"_live": pa.bool_(), **{f.name: f.type for f in schema}},
        ["_live", *names],
    )
    live = parsed.column("_live")
    arrays = []
    if with_op:
        arrays.append(pc.if_else(live, "upsert", "delete").cast(pa.string()))
    tombstones = parsed.num_rows and not pc.all(live).as_py()
    for name in names:
        column = parsed.column(name)
        if tombstones and name != key_column:
            column = pc.if_else(live, column, pa.scalar(None, column.type))
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


def tombstones(arrow_table):
    """Rows of a chunk's table that are deletions (incremental files).

    >>> t = pa.table({OP_COLUMN: ["upsert", "delete", "delete"]})
    >>> tombstones(t), tombstones(pa.table({"id": [1]}))
    (2, 0)
    """
    if OP_COLUMN not in arrow_table.column_names:
        return 0
    return pc.sum(pc.equal(arrow_table.column(OP_COLUMN), "delete")).as_py() or 0


def to_bytes(arrow_table):
    """The chunk as a Parquet file in memory: the same rows, the same bytes."""
    sink = io.BytesIO()
    pq.write_table(arrow_table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue()


def temporary(path):
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.tmp")


def make_folder(base, *parts):
    """The folder ``base/parts...``, created a level at a time. Refused when
    a level is a symbolic link or leads out of ``base``: whoever may write in
    the export folder cannot send a publication's files elsewhere.

    >>> import tempfile
    >>> base = tempfile.mkdtemp()
    >>> make_folder(base, "spend", "incremental") == os.path.join(
    ...     base, "spend", "incremental")
    True
    >>> os.symlink(tempfile.mkdtemp(), os.path.join(base, "payments"))
    >>> make_folder(base, "payments")
    Traceback (most recent call last):
    ...
    lib.bi_parquet.FolderError: payments is a symbolic link; remove it
    """
    path = base
    for part in parts:
        path = os.path.join(path, part)
        if os.path.islink(path):
            raise FolderError(f"{part} is a symbolic link; remove it")
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o750)
        if os.path.islink(path) or not os.path.isdir(path):
            raise FolderError(f"{part} is not a folder")
    real_base = os.path.realpath(base)
    if os.path.commonpath([real_base, os.path.realpath(path)]) != real_base:
        raise FolderError("the folder leads outside the publication's folder")
    return path


def claim(folder, owner):
    """Claim ``folder`` for one publication (``owner``): the first load
    writes a marker; a folder claimed by another publication is refused, so
    two publications never overwrite each other's files.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> claim(folder, "db:1"); claim(folder, "db:1")
    >>> claim(folder, "db:2")
    Traceback (most recent call last):
    ...
    lib.bi_parquet.FolderError: the folder holds another publication's files; \
choose another folder
    """
    marker = os.path.join(folder, OWNER_FILE)
    try:
        handle = _open_new(marker, replace=False)
    except FileExistsError:
        with open(marker, encoding="utf-8") as existing:
            if existing.read().strip() != owner:
                raise FolderError(
                    "the folder holds another publication's files; choose "
                    "another folder"
                ) from None
        return
    with handle:
        handle.write(owner.encode())


def _open_new(path, replace=True):
    """A new file at ``path``, never through a symbolic link someone left
    there (a stale temporary file is removed first when ``replace``)."""
    if replace:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o640), "wb")


def write_bytes(path, data):
    """Write ``data`` as ``path``: a temporary name, flushed, then renamed,
    so a kill never leaves half a file under the final name."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scratch = temporary(path)
    with _open_new(scratch) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    publish(scratch, path)


def publish(scratch, path):
    """Give the finished temporary file its final name (atomic; a symbolic
    link at the final name is replaced, never followed)."""
    os.replace(scratch, path)


def combine(parts, path, schema):
    """One file from the chunk files ``parts`` (a row group each), streamed:
    one chunk in memory at a time. Written under a temporary name, renamed."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scratch = temporary(path)
    with _open_new(scratch) as handle:
        with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=schema))
        handle.flush()
        os.fsync(handle.fileno())
    publish(scratch, path)


def live_totals(arrow_table, totals):
    """Control totals of the live rows of a file's table (an incremental
    file's tombstones carry no amounts)."""
    if OP_COLUMN in arrow_table.column_names:
        arrow_table = arrow_table.filter(
            pc.equal(arrow_table.column(OP_COLUMN), "upsert")
        )
    return bi_copy.totals_of(arrow_table, totals)


def file_figures(path, totals, key_column):
    """What a file holds, read back from it row group by row group (flat
    memory): live rows, tombstones and the control totals as a list.

    ``totals`` are :class:`bi_datasets.Total`.
    """
    parquet = pq.ParquetFile(path)
    wanted = {key_column}
    for total in totals:
        wanted.update((total.amount, total.currency, total.company))
    if OP_COLUMN in parquet.schema_arrow.names:
        wanted.add(OP_COLUMN)
    rows = tombstones = 0
    sums = {}
    for index in range(parquet.num_row_groups):
        group = parquet.read_row_group(index, columns=sorted(wanted))
        live = group.num_rows
        if OP_COLUMN in group.column_names:
            live = pc.sum(pc.equal(group.column(OP_COLUMN), "upsert")).as_py() or 0
        rows += live
        tombstones += group.num_rows - live
        for item in live_totals(group, totals):
            key = (item["amount"], item["currency"], item["company"])
            entry = sums.setdefault(key, [Decimal(0), 0])
            entry[0] += Decimal(item["total"])
            entry[1] += item["rows"]
    return rows, tombstones, sums


def file_sha256(path):
    """SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_staging(folder):
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder)
