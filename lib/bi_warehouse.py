"""A publication's PostgreSQL warehouse: its tables, the COPY text of a
chunk, and the statements that merge a chunk in one transaction.

Each publication owns a schema (``fih_<code>``) holding one table per
dataset with typed columns (numeric stays numeric, dates stay dates), plus
three technical tables: ``fih_owner`` (which publication writes here),
``fih_chunk`` (each merged chunk of each load) and ``fih_manifest`` (the
manifest of each finished load). BI tools read the dataset table directly.

Identifiers are composed with :mod:`psycopg2.sql`, never by formatting
strings; values are always query parameters.

>>> from .bi_datasets import DATASETS
>>> schema_name("spend-EU")
'fih_spend_eu'
>>> PG_TYPES["date"], PG_TYPES["numeric"]
('date', 'numeric')
>>> destination("host=wh.example port=6432 dbname=bi user=powerbi password=x")
Destination(host='wh.example', port=6432, dbname='bi', user='powerbi')
>>> destination("host=/var/run/postgresql dbname=bi user=x")
Traceback (most recent call last):
...
lib.bi_warehouse.WarehouseSettingError: the warehouse host must be a host \
name or an IP address, not a socket folder
"""

import io
import re
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import parse_dsn

PG_TYPES = {
    "integer": "bigint",
    "text": "text",
    "date": "date",
    "numeric": "numeric",
    "boolean": "boolean",
}
# what an administrator may put in the DSN; TLS comes from the publication's
# own settings, and nothing may name files or options of this server
DSN_KEYS = frozenset(
    {
        "host",
        "port",
        "dbname",
        "user",
        "password",
        "connect_timeout",
        "application_name",
    }
)
SSL_MODES = ("verify-full", "verify-ca", "require", "disable")
OWNER_TABLE, CHUNK_TABLE, MANIFEST_TABLE = "fih_owner", "fih_chunk", "fih_manifest"
STAGE_TABLE = "fih_stage"
# the technical columns a chunk's CSV lines start with (lib/bi_copy.py)
STAGE_TECHNICAL = (
    ("_fih_changed_at", "timestamp"),
    ("_fih_key", "bigint"),
    ("_fih_live", "boolean"),
    ("_fih_date", "date"),
)
LIVE, KEY, DATE = "_fih_live", "_fih_key", "_fih_date"
# what a load's figures and sweeps cover: the whole table (a full reload or a
# snapshot), the rows of its period, or the rows it wrote (incremental)
SCOPES = ("all", "period", "load")
_HOST = re.compile(r"^[A-Za-z0-9_.:-]{1,253}$")


class WarehouseSettingError(ValueError):
    """The warehouse connection settings cannot be used; the message says why."""


@dataclass(frozen=True)
class Destination:
    host: str
    port: int
    dbname: str
    user: str

    def __str__(self):
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"


def destination(dsn):
    """Where a DSN connects: one TCP host, its port and database.

    >>> destination("postgresql://bi@10.0.0.7/dwh").port
    5432
    >>> destination("host=a,b dbname=x user=y")
    Traceback (most recent call last):
    ...
    lib.bi_warehouse.WarehouseSettingError: give one warehouse host, not several
    >>> destination("host=wh dbname=x user=y sslkey=/etc/ssl/private/k")
    Traceback (most recent call last):
    ...
    lib.bi_warehouse.WarehouseSettingError: the connection string may not set \
sslkey; set TLS in the publication's warehouse settings
    """
    try:
        parts = parse_dsn(dsn or "")
    except Exception:  # noqa: BLE001 - psycopg2 raises ProgrammingError
        raise WarehouseSettingError(
            "the connection string cannot be read; write it as "
            "host=... port=... dbname=... user=... password=..."
        ) from None
    for key in sorted(set(parts) - DSN_KEYS):
        raise WarehouseSettingError(
            f"the connection string may not set {key}; set TLS in the "
            "publication's warehouse settings"
        )
    host = (parts.get("host") or "").strip()
    if not host:
        raise WarehouseSettingError("the connection string names no host")
    if "," in host:
        raise WarehouseSettingError("give one warehouse host, not several")
    if host.startswith("/") or host.startswith("@") or not _HOST.match(host):
        raise WarehouseSettingError(
            "the warehouse host must be a host name or an IP address, not a "
            "socket folder"
        )
    try:
        port = int(parts.get("port") or 5432)
    except ValueError:
        raise WarehouseSettingError("the warehouse port must be a number") from None
    if not 0 < port < 65536:
        raise WarehouseSettingError("the warehouse port must be between 1 and 65535")
    if not parts.get("dbname") or not parts.get("user"):
        raise WarehouseSettingError("the connection string must name dbname and user")
    return Destination(host.lower(), port, parts["dbname"], parts["user"])


def connect_kwargs(dsn, address, sslmode, rootcert_path=None):
    """Arguments for ``psycopg2.connect``: the DSN, pinned to the checked
    ``address`` (``hostaddr``: no second DNS lookup), with its TLS settings.

    >>> kwargs = connect_kwargs("host=wh dbname=x user=y", "192.0.2.4", "verify-full")
    >>> kwargs["hostaddr"], kwargs["sslmode"], kwargs["host"]
    ('192.0.2.4', 'verify-full', 'wh')
    """
    if sslmode not in SSL_MODES:
        raise WarehouseSettingError(f"unknown TLS mode {sslmode}")
    parts = parse_dsn(dsn)
    parts.update(hostaddr=str(address), sslmode=sslmode)
    parts.setdefault("connect_timeout", "10")
    parts.setdefault("application_name", "finance_integration_hub")
    if rootcert_path:
        parts["sslrootcert"] = rootcert_path
    return parts


def schema_name(code):
    """The schema a publication owns, from its code (letters, digits, '-'
    and '_', checked by the publication)."""
    return ("fih_" + code.lower().replace("-", "_"))[:63]


# -- statements on the warehouse ------------------------------------------------


class Tables:
    """The statements of one publication's schema and dataset table.

    A chunk's CSV lines go to a staging table in the order of
    :attr:`line_columns`: the technical columns, then the columns the
    control totals read, then the others.

    >>> from .bi_datasets import DATASETS
    >>> tables = Tables("fih_spend", DATASETS["spend"])
    >>> len(tables.create_statements()), tables.key
    (6, 'line_id')
    >>> tables.line_columns[:4]
    ['_fih_changed_at', '_fih_key', '_fih_live', '_fih_date']
    >>> tables.line_columns[4:7]
    ['amount_currency', 'currency', 'company']
    """

    def __init__(self, schema, dataset):
        self.dataset = dataset
        self.schema = sql.Identifier(schema)
        self.table = sql.Identifier(schema, dataset.code)
        self.key = dataset.key_column
        self.columns = [sql.Identifier(name) for name in dataset.column_names]
        self.data_columns = dataset.total_columns + [
            name for name in dataset.column_names if name not in dataset.total_columns
        ]
        self.line_columns = [name for name, _type in STAGE_TECHNICAL] + (
            self.data_columns
        )
        self.owner = sql.Identifier(schema, OWNER_TABLE)
        self.chunks = sql.Identifier(schema, CHUNK_TABLE)
        self.manifests = sql.Identifier(schema, MANIFEST_TABLE)
        self.stage = sql.Identifier(STAGE_TABLE)

    def _typed(self, names=None):
        types = {c.name: PG_TYPES[c.type] for c in self.dataset.columns}
        types.update(STAGE_TECHNICAL)
        return sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(types[name]))
            for name in names or self.dataset.column_names
        )

    def _list(self, prefix=None):
        """The dataset's columns, comma separated (``prefix.`` before each)."""
        if prefix is None:
            return sql.SQL(", ").join(self.columns)
        return sql.SQL(", ").join(
            sql.SQL("{}.{}").format(sql.Identifier(prefix), column)
            for column in self.columns
        )

    def create_statements(self):
        """Create what is missing (a dataset's new columns too); idempotent."""
        statements = [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self.schema),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (owner text PRIMARY KEY, "
                "since timestamptz NOT NULL DEFAULT now())"
            ).format(self.owner),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ({}, _fih_load_id text NOT NULL, "
                "_fih_loaded_at timestamptz NOT NULL DEFAULT now(), "
                "_fih_deleted boolean NOT NULL DEFAULT false, _fih_date date, "
                "PRIMARY KEY ({}))"
            ).format(self.table, self._typed(), sql.Identifier(self.key)),
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (_fih_load_id)").format(
                sql.Identifier(f"{self.dataset.code}_fih_load"), self.table
            ),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (load_id text, sequence integer, "
                "rows integer NOT NULL, tombstones integer NOT NULL, "
                "sha256 text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (load_id, sequence))"
            ).format(self.chunks),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (load_id text PRIMARY KEY, "
                "dataset text NOT NULL, mode text NOT NULL, period_start date, "
                "period_end date, changes_before timestamp, rows bigint NOT NULL, "
                "tombstones bigint NOT NULL, totals jsonb NOT NULL, "
                "content_sha256 text NOT NULL, manifest jsonb NOT NULL, "
                "loaded_at timestamptz NOT NULL DEFAULT now())"
            ).format(self.manifests),
        ]
        return statements

    def claim(self):
        """Claim the schema for a publication (parameter: its identity); the
        next statement, :meth:`owners`, says who holds it."""
        return sql.SQL(
            "INSERT INTO {} (owner) VALUES (%s) ON CONFLICT DO NOTHING"
        ).format(self.owner)

    def owners(self):
        return sql.SQL("SELECT owner FROM {}").format(self.owner)

    def add_columns(self):
        """New dataset columns (and the period date of tables made before
        it was kept), added to an existing table."""
        return [
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                self.table, sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type])
            )
            for c in self.dataset.columns
        ] + [
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} date").format(
                self.table, sql.Identifier(DATE)
            )
        ]

    def create_stage(self):
        return sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS"
        ).format(self.stage, self._typed(self.line_columns))

    def copy_statement(self):
        return sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            self.stage,
            sql.SQL(", ").join(sql.Identifier(name) for name in self.line_columns),
        )

    def upsert(self):
        """Live rows of the stage into the table, each rewritten with the
        load id (incremental loads); parameter: the load id."""
        key = sql.Identifier(self.key)
        updates = sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(column, column)
            for column in self.columns
            if column != key
        )
        return sql.SQL(
            "INSERT INTO {table} ({columns}, _fih_date, _fih_load_id, "
            "_fih_loaded_at, _fih_deleted) SELECT {columns}, {date}, %s, now(), "
            "false FROM {stage} WHERE {live} ON CONFLICT ({key}) DO UPDATE SET "
            "{updates}, _fih_date = EXCLUDED._fih_date, "
            "_fih_load_id = EXCLUDED._fih_load_id, "
            "_fih_loaded_at = EXCLUDED._fih_loaded_at, _fih_deleted = false"
        ).format(
            table=self.table,
            columns=self._list(),
            date=sql.Identifier(DATE),
            stage=self.stage,
            live=sql.Identifier(LIVE),
            key=key,
            updates=updates,
        )

    def update_changed(self):
        """Rows of the stage that differ from the table's, rewritten; the
        rows that are the same are left alone (a replacing load); parameter:
        the load id."""
        return sql.SQL(
            "UPDATE {table} t SET ({columns}, _fih_date, _fih_load_id, "
            "_fih_loaded_at, _fih_deleted) = ({staged}, s.{date}, %s, now(), "
            "false) FROM {stage} s WHERE s.{live} AND t.{key} = s.{key} AND "
            "({current}, t.{date}, t._fih_deleted) IS DISTINCT FROM "
            "({staged}, s.{date}, false)"
        ).format(
            table=self.table,
            columns=self._list(),
            staged=self._list("s"),
            current=self._list("t"),
            date=sql.Identifier(DATE),
            stage=self.stage,
            live=sql.Identifier(LIVE),
            key=sql.Identifier(self.key),
        )

    def insert_missing(self):
        """Rows of the stage the table does not hold yet (a replacing load);
        parameter: the load id."""
        return sql.SQL(
            "INSERT INTO {table} ({columns}, _fih_date, _fih_load_id, "
            "_fih_loaded_at, _fih_deleted) SELECT {columns}, {date}, %s, now(), "
            "false FROM {stage} WHERE {live} ON CONFLICT ({key}) DO NOTHING"
        ).format(
            table=self.table,
            columns=self._list(),
            date=sql.Identifier(DATE),
            stage=self.stage,
            live=sql.Identifier(LIVE),
            key=sql.Identifier(self.key),
        )

    def remove(self, soft):
        """Tombstones of the stage: deleted, or flagged deleted (``soft``,
        parameter: the load id)."""
        key = sql.Identifier(self.key)
        if soft:
            return sql.SQL(
                "UPDATE {table} t SET _fih_deleted = true, _fih_load_id = %s, "
                "_fih_loaded_at = now() FROM {stage} s "
                "WHERE NOT s.{live} AND t.{key} = s.{stage_key}"
            ).format(
                table=self.table,
                stage=self.stage,
                live=sql.Identifier(LIVE),
                key=key,
                stage_key=sql.Identifier(KEY),
            )
        return sql.SQL(
            "DELETE FROM {table} t USING {stage} s "
            "WHERE NOT s.{live} AND t.{key} = s.{stage_key}"
        ).format(
            table=self.table,
            stage=self.stage,
            live=sql.Identifier(LIVE),
            key=key,
            stage_key=sql.Identifier(KEY),
        )

    def sweep(self, soft, period, upto):
        """Rows a replacing load did not bring leave the table: those of the
        keys after the previous chunk and up to this chunk's last (``upto``;
        after the last chunk: all the keys after it) that are not in the
        stage; for a period, only the rows of that period.

        Parameters: the load id (``soft`` only), the key after which, the
        last key (``upto`` only), the period's first and last days (``period``
        only)."""
        where = [sql.SQL("t.{} > %s").format(sql.Identifier(self.key))]
        if upto:
            where.append(sql.SQL("t.{} <= %s").format(sql.Identifier(self.key)))
            where.append(
                sql.SQL("NOT EXISTS (SELECT 1 FROM {} s WHERE s.{} = t.{})").format(
                    self.stage, sql.Identifier(KEY), sql.Identifier(self.key)
                )
            )
        if period:
            where.append(sql.SQL("t.{} BETWEEN %s AND %s").format(sql.Identifier(DATE)))
        condition = sql.SQL(" AND ").join(where)
        if soft:
            return sql.SQL(
                "UPDATE {} t SET _fih_deleted = true, _fih_load_id = %s, "
                "_fih_loaded_at = now() WHERE NOT t._fih_deleted AND {}"
            ).format(self.table, condition)
        return sql.SQL("DELETE FROM {} t WHERE {}").format(self.table, condition)

    def record_chunk(self):
        """Parameters: load id, sequence, rows, tombstones, sha256."""
        return sql.SQL(
            "INSERT INTO {} (load_id, sequence, rows, tombstones, sha256) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (load_id, sequence) DO UPDATE "
            "SET rows = EXCLUDED.rows, tombstones = EXCLUDED.tombstones, "
            "sha256 = EXCLUDED.sha256, loaded_at = now()"
        ).format(self.chunks)

    def forget_chunks_after(self):
        """Chunks of an earlier attempt beyond the load's last; parameters:
        load id, last sequence."""
        return sql.SQL("DELETE FROM {} WHERE load_id = %s AND sequence > %s").format(
            self.chunks
        )

    def record_manifest(self):
        """Parameters: load id, dataset, mode, period start, period end,
        changes before, rows, tombstones, totals (JSON), content hash,
        manifest (JSON)."""
        return sql.SQL(
            "INSERT INTO {} (load_id, dataset, mode, period_start, period_end, "
            "changes_before, rows, tombstones, totals, content_sha256, manifest) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (load_id) DO UPDATE SET rows = EXCLUDED.rows, "
            "tombstones = EXCLUDED.tombstones, totals = EXCLUDED.totals, "
            "content_sha256 = EXCLUDED.content_sha256, "
            "manifest = EXCLUDED.manifest, loaded_at = now()"
        ).format(self.manifests)

    def landed_chunks(self):
        """What the warehouse holds of a load, chunk by chunk; parameter:
        load id."""
        return sql.SQL(
            "SELECT sequence, rows, tombstones, sha256 FROM {} WHERE load_id = %s "
            "ORDER BY sequence"
        ).format(self.chunks)

    def _scope(self, scope):
        """Which live rows a load's figures cover (:data:`SCOPES`);
        parameters: the load id (``load``), or the period's first and last
        days (``period``)."""
        condition = {
            "all": "NOT _fih_deleted",
            "period": "NOT _fih_deleted AND _fih_date BETWEEN %s AND %s",
            "load": "NOT _fih_deleted AND _fih_load_id = %s",
        }[scope]
        return sql.SQL(condition)

    def landed_rows(self, scope):
        """Live rows of the load's scope."""
        return sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
            self.table, self._scope(scope)
        )

    def landed_totals(self, total, scope):
        """The warehouse's own sums of a control total over the live rows of
        the load's scope, as exact text."""
        return sql.SQL(
            "SELECT coalesce({currency}, ''), coalesce({company}, ''), "
            "sum(coalesce({amount}, 0))::text, count(*) FROM {table} "
            "WHERE {scope} GROUP BY 1, 2"
        ).format(
            currency=sql.Identifier(total.currency),
            company=sql.Identifier(total.company),
            amount=sql.Identifier(total.amount),
            table=self.table,
            scope=self._scope(scope),
        )


@dataclass(frozen=True)
class ChunkMerge:
    """How one load merges its chunks: its tables, its id, its scope
    (:data:`SCOPES`), soft tombstones or not, and its period."""

    tables: Tables
    load_id: str
    scope: str
    soft: bool
    period: tuple = ()

    def sweep_parameters(self, after_key, upto_key=None):
        """The sweep's parameters (:meth:`Tables.sweep`)."""
        parameters = [self.load_id] if self.soft else []
        parameters.append(after_key or 0)
        if upto_key is not None:
            parameters.append(upto_key)
        if self.scope == "period":
            parameters += list(self.period)
        return parameters

    def sweep_rest(self, cr, after_key):
        """After a replacing load's last chunk: the keys after it are no
        longer there (nothing for an incremental load)."""
        if self.scope != "load":
            cr.execute(
                self.tables.sweep(self.soft, self.scope == "period", upto=False),
                self.sweep_parameters(after_key),
            )

    def run(self, cr, data, chunk):
        """Merge one chunk of CSV lines (``data``) on the warehouse cursor
        ``cr``, and record it, in the caller's transaction. ``chunk`` gives
        its sequence, the key after which it starts, its last key, its live
        rows, tombstones and hash."""
        tables = self.tables
        cr.copy_expert(tables.copy_statement(), io.BytesIO(data), size=1 << 20)
        if self.scope == "load":
            cr.execute(tables.upsert(), (self.load_id,))
        else:
            # a replacing load rewrites only the rows that changed, then
            # removes those of its keys it did not bring
            cr.execute(tables.update_changed(), (self.load_id,))
            cr.execute(tables.insert_missing(), (self.load_id,))
            cr.execute(
                tables.sweep(self.soft, self.scope == "period", upto=True),
                self.sweep_parameters(chunk.after_key, chunk.last_key),
            )
        if chunk.tombstones:
            cr.execute(tables.remove(self.soft), (self.load_id,) if self.soft else None)
        cr.execute(
            tables.record_chunk(),
            (self.load_id, chunk.sequence, chunk.rows, chunk.tombstones, chunk.sha256),
        )


@dataclass(frozen=True)
class MergedChunk:
    """One chunk as :meth:`ChunkMerge.run` merges it."""

    sequence: int
    after_key: int
    last_key: int
    rows: int
    tombstones: int
    sha256: str


def acknowledgement(chunks, rows, totals_by_spec, content_hash):
    """The warehouse's figures in the form of a platform's acknowledgement,
    so the same comparison reconciles every sink.

    ``chunks`` are (sequence, rows, tombstones, sha256) rows; ``totals_by_spec``
    maps an amount column to (currency, company, sum, count) rows.

    >>> from decimal import Decimal
    >>> ack = acknowledgement([(1, 2, 1, "h")], 2,
    ...     {"amount": [("EUR", "Main", Decimal("10.50"), 2)]}, lambda h: "x")
    >>> ack["rows"], ack["tombstones"], ack["totals"][0]["total"]
    (2, 1, '10.50')
    """
    return {
        "rows": rows,
        "tombstones": sum(chunk[2] for chunk in chunks),
        "chunk_rows": sum(chunk[1] for chunk in chunks),
        "content_sha256": content_hash([chunk[3] for chunk in chunks]),
        "totals": [
            {
                "amount": amount,
                "currency": currency,
                "company": company,
                "rows": count,
                "total": str(total),
            }
            for amount, groups in totals_by_spec.items()
            for currency, company, total, count in groups
        ],
    }
