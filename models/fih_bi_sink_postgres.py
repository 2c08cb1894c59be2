import contextlib
import ipaddress
import json
import socket
import tempfile
import time

import psycopg2
import pyarrow as pa

from odoo import fields, models

from ..lib import bi_copy, bi_encoding, bi_warehouse, url_guard
from ..lib import secret_box as secret_binding
from ..lib.bi_datasets import DATASETS
from .fih_bi_load import LoadStopped

CONNECTION_KEY = "fih_bi_warehouse_connection"


class FihBiPublicationWarehouse(models.Model):
    """A publication's PostgreSQL warehouse: its connection string, kept
    encrypted and bound to the host, port and database it names, and its
    TLS settings; all set by a system administrator."""

    _name = "fih.bi.publication"
    _inherit = ["fih.bi.publication", "fih.secret.mixin"]

    _fih_secret_fields = {"warehouse_dsn": "warehouse_dsn_encrypted"}

    warehouse_dsn = fields.Char(
        string="Warehouse connection",
        compute="_compute_secret_inputs",
        inverse="_inverse_warehouse_dsn",
        groups="base.group_system",
        help="Set by a system administrator: host=... port=... dbname=... "
        "user=... password=... of the warehouse database. Stored encrypted, "
        "never shown again, and only used for the host, port and database it "
        "names.",
    )
    warehouse_dsn_encrypted = fields.Char(copy=False, groups="base.group_system")
    warehouse_destination = fields.Char(
        string="Warehouse",
        readonly=True,
        copy=False,
        help="The user, host, port and database of the stored connection "
        "(the password is never shown).",
    )
    warehouse_sslmode = fields.Selection(
        [(mode, mode) for mode in bi_warehouse.SSL_MODES],
        string="TLS",
        copy=False,
        help="Set by a system administrator. Empty means verify-full: "
        "encrypted, and the server's certificate and name are checked. "
        "disable is only accepted for a host of your own network.",
    )
    warehouse_root_cert = fields.Text(
        string="TLS root certificate",
        copy=False,
        help="Set by a system administrator: the PEM certificate of the "
        "authority that signed the warehouse's certificate.",
    )
    warehouse_tombstones = fields.Selection(
        [
            ("delete", "Delete the row"),
            ("soft", "Keep the row, marked deleted"),
        ],
        string="Deleted rows",
        default="delete",
        required=True,
        help="What the warehouse does with a row that left the dataset (a "
        "bill reset to draft, a deleted line). Marked rows keep "
        "_fih_deleted = true: filter them out in reports.",
    )
    warehouse_schema = fields.Char(
        compute="_compute_warehouse_schema",
        help="The schema this publication owns in the warehouse; the dataset "
        "is its table of the same name.",
    )

    def _compute_warehouse_schema(self):
        for publication in self:
            publication.warehouse_schema = (
                bi_warehouse.schema_name(publication.code) if publication.code else ""
            )

    def _inverse_warehouse_dsn(self):
        self._inverse_secret("warehouse_dsn")

    def _warehouse_fingerprint(self, destination_text):
        return secret_binding.destination_fingerprint(
            self.id, "warehouse", destination_text
        )

    def _fih_secret_values(self, field_name, plaintext):
        if field_name != "warehouse_dsn":
            return super()._fih_secret_values(field_name, plaintext)
        destination = str(bi_warehouse.destination(plaintext))
        bound = secret_binding.bind(plaintext, self._warehouse_fingerprint(destination))
        values = super()._fih_secret_values(field_name, bound)
        values["warehouse_destination"] = destination
        return values

    def _warehouse_dsn(self):
        """The connection string, for the load only; never log it."""
        self.ensure_one()
        bound = self._get_secret("warehouse_dsn")
        if not bound:
            raise LoadStopped(
                self.env._(
                    "No warehouse connection is set on %s: ask a system "
                    "administrator to enter it.",
                    self.name,
                ),
                retry=False,
            )
        destination = self.sudo().warehouse_destination or ""
        try:
            dsn = secret_binding.unbind(bound, self._warehouse_fingerprint(destination))
        except secret_binding.SecretDestinationError as exc:
            raise LoadStopped(
                self.env._(
                    "The warehouse connection of %(publication)s is not used: "
                    "%(reason)s. A system administrator must enter it again.",
                    publication=self.name,
                    reason=exc,
                ),
                retry=False,
            ) from None
        return dsn


class FihBiLoadPostgres(models.Model):
    """Loads into a PostgreSQL warehouse: each chunk is COPied into a
    staging table and merged into the dataset's table in one transaction
    with the record of the chunk; the manifest lands with the last one."""

    _inherit = "fih.bi.load"

    def _is_warehouse(self):
        return self.publication_id.sink == "postgres"

    def _warehouse_tables(self):
        publication = self.publication_id
        return bi_warehouse.Tables(
            bi_warehouse.schema_name(publication.code), DATASETS[self.dataset]
        )

    def _reads_by_copy(self):
        return self._is_warehouse() or super()._reads_by_copy()

    def _query_outputs(self, dataset):
        if not self._is_warehouse():
            return super()._query_outputs(dataset)
        # the line of the staging table: the period date, the totals' columns
        # (split off each line by the hub), then the rest, as COPY writes them
        return ["feed._date"] + [
            f"feed.{name}" for name in self._warehouse_tables().data_columns
        ]

    def _chunk_worker(self, reference_chunks):
        if not self._is_warehouse():
            return super()._chunk_worker(reference_chunks)
        # everything the worker needs, read here: it never touches the ORM
        connection = self._warehouse()
        merge = self._chunk_merge()
        dataset = DATASETS[self.dataset]
        money = pa.decimal128(38, self._money_scale())
        # groups are text whatever they look like ("2024" is a company name)
        types = {
            bi_warehouse.LIVE: pa.bool_(),
            **{
                name: pa.string()
                for total in dataset.totals
                for name in (total.currency, total.company)
            },
            **{total.amount: money for total in dataset.totals},
        }
        reference = dict(reference_chunks) if self.reference_load_id else None
        commit = self._warehouse_commit

        def work(sequence, data, count, after_key, chunk):
            started = time.monotonic()
            digest = bi_encoding.sha256(data)
            if reference is not None and reference.get(sequence) != digest:
                raise bi_copy.ReferenceMismatch(sequence)
            table = bi_copy.read_chunk(
                data,
                merge.tables.line_columns,
                types,
                [bi_warehouse.LIVE, *dataset.total_columns],
            )
            if table.num_rows != count:
                raise bi_copy.RowCountMismatch(count, table.num_rows)
            live = table.column(bi_warehouse.LIVE)
            rows = table.filter(live)
            merged = bi_warehouse.MergedChunk(
                sequence=sequence,
                after_key=after_key,
                last_key=bi_copy.head(chunk.last).key,
                rows=rows.num_rows,
                tombstones=count - rows.num_rows,
                sha256=digest,
            )
            try:
                with connection.cursor() as cr:
                    merge.run(cr, data, merged)
                # the chunk, its merge and its record: one transaction
                commit(connection, sequence)
            except BaseException:
                with contextlib.suppress(psycopg2.Error):
                    connection.rollback()
                raise
            return self._delivered(
                chunk,
                started,
                rows=merged.rows,
                tombstones=merged.tombstones,
                raw_bytes=len(data),
                sha256=digest,
                totals=bi_copy.totals_of(rows, dataset.totals),
            )

        return work

    def _chunk_failure(self, exc):
        if not self._is_warehouse():
            return super()._chunk_failure(exc)
        if isinstance(exc, psycopg2.Error):
            return self._warehouse_stop(exc)
        return super()._chunk_failure(exc)

    def _chunk_merge(self):
        """How this load merges its chunks (bi_warehouse.ChunkMerge)."""
        scope = self._warehouse_scope()
        return bi_warehouse.ChunkMerge(
            tables=self._warehouse_tables(),
            load_id=self.uid,
            scope=scope,
            soft=self.publication_id.warehouse_tombstones == "soft",
            period=self._scope_parameters("period") if scope == "period" else (),
        )

    def _warehouse_scope(self):
        """What this load's sweeps and figures cover (bi_warehouse.SCOPES)."""
        if self.mode == "full" or not DATASETS[self.dataset].incremental:
            return "all"
        return "period" if self.mode == "period" else "load"

    def _scope_parameters(self, scope):
        return {
            "all": (),
            "period": (self.period_start, self.period_end),
            "load": (self.uid,),
        }[scope]

    def _run_on(self, stream_cr):
        try:
            return super()._run_on(stream_cr)
        finally:
            connection = self.env.cr.cache.pop(CONNECTION_KEY, None)
            if connection is not None:
                with contextlib.suppress(psycopg2.Error):
                    connection.close()

    # -- connection -----------------------------------------------------------

    def _warehouse(self):
        """The run's connection to the warehouse, opened and checked once."""
        connection = self.env.cr.cache.get(CONNECTION_KEY)
        if connection is None or connection.closed:
            connection = self._warehouse_connect()
            self.env.cr.cache[CONNECTION_KEY] = connection
            self._warehouse_prepare(connection)
        return connection

    def _warehouse_connect(self):
        publication = self.publication_id.sudo()
        dsn = publication._warehouse_dsn()
        try:
            destination = bi_warehouse.destination(dsn)
        except bi_warehouse.WarehouseSettingError as exc:
            raise LoadStopped(self._warehouse_text(exc), retry=False) from None
        address = self._warehouse_address(destination)
        sslmode = publication.warehouse_sslmode or "verify-full"
        if sslmode == "disable" and ipaddress.ip_address(address).is_global:
            raise LoadStopped(
                self._warehouse_text(
                    "TLS may only be disabled for a host of your own network"
                ),
                retry=False,
            )
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as rootcert:
            path = None
            if publication.warehouse_root_cert:
                rootcert.write(publication.warehouse_root_cert)
                rootcert.flush()
                path = rootcert.name
            try:
                return psycopg2.connect(
                    **bi_warehouse.connect_kwargs(dsn, address, sslmode, path)
                )
            except psycopg2.OperationalError as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc) else ""
                raise LoadStopped(
                    self.env._(
                        "The warehouse %(warehouse)s cannot be reached or refused "
                        "the connection (%(reason)s); the load resumes later.",
                        warehouse=publication.warehouse_destination,
                        reason=first_line,
                    ),
                    retry=True,
                ) from None

    def _warehouse_address(self, destination):
        """The address to connect to, checked against the SSRF guard: a host
        of the own network needs the backend's allow-list."""
        allowlist = self.publication_id.backend_id._allowlist()
        try:
            resolved = socket.getaddrinfo(
                destination.host, destination.port, type=socket.SOCK_STREAM
            )
        except OSError:
            raise LoadStopped(
                self._warehouse_text(f"the host {destination.host} is not found"),
                retry=True,
            ) from None
        addresses = [entry[4][0] for entry in resolved]
        try:
            for address in addresses:
                url_guard.check_address(
                    address, destination.host, allowlist, destination.port
                )
        except url_guard.UnsafeURLError as exc:
            raise LoadStopped(self._warehouse_text(exc), retry=False) from None
        return addresses[0].split("%", 1)[0]

    def _warehouse_text(self, reason):
        return self.env._(
            "The warehouse connection of %(publication)s cannot be used: "
            "%(reason)s.",
            publication=self.publication_id.name,
            reason=reason,
        )

    def _warehouse_identity(self):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"{uuid}:{self.publication_id.id}"

    def _warehouse_prepare(self, connection):
        """The schema and tables, created or completed; the schema must be
        this publication's."""
        tables = self._warehouse_tables()
        with connection.cursor() as cr:
            for statement in tables.create_statements() + tables.add_columns():
                cr.execute(statement)
            cr.execute(tables.claim(), (self._warehouse_identity(),))
            cr.execute(tables.owners())
            owners = [row[0] for row in cr.fetchall()]
            cr.execute(tables.create_stage())
        connection.commit()
        if owners != [self._warehouse_identity()]:
            raise LoadStopped(
                self._warehouse_text(
                    f"the schema {bi_warehouse.schema_name(self.publication_id.code)} "
                    "belongs to another publication; give this one another code"
                ),
                retry=False,
            )

    # -- chunks and manifest -------------------------------------------------------

    def _warehouse_commit(self, connection, sequence):
        """Commit a chunk's transaction in the warehouse (a seam for the
        tests, which stop a load right after it)."""
        connection.commit()

    @contextlib.contextmanager
    def _warehouse_errors(self, connection):
        try:
            yield
        except psycopg2.Error as exc:
            with contextlib.suppress(psycopg2.Error):
                connection.rollback()
            raise self._warehouse_stop(exc) from None

    def _warehouse_stop(self, exc):
        """The LoadStopped a warehouse error means: a lost connection resumes
        later; data the warehouse refused needs a person."""
        if isinstance(exc, psycopg2.OperationalError):
            return LoadStopped(
                self._warehouse_text(f"the connection was lost ({type(exc).__name__})")
                + " "
                + self.env._("The load resumes later."),
                retry=True,
            )
        reason = (exc.pgerror or str(exc)).strip().splitlines()[0]
        return LoadStopped(
            self._warehouse_text(
                f"the warehouse refused the data ({reason}); check that its "
                "tables were not changed by hand"
            ),
            retry=False,
        )

    def _send_manifest(self):
        if not self._is_warehouse():
            return super()._send_manifest()
        connection = self._warehouse()
        tables = self._warehouse_tables()
        manifest = json.loads(self.manifest)
        with self._warehouse_errors(connection):
            with connection.cursor() as cr:
                cr.execute(
                    tables.forget_chunks_after(), (self.uid, len(self.chunk_ids))
                )
                self._chunk_merge().sweep_rest(cr, self.last_key)
                cr.execute(
                    tables.record_manifest(),
                    (
                        self.uid,
                        self.dataset,
                        self.mode,
                        self.period_start or None,
                        self.period_end or None,
                        self.bound_at if self.mode == "incremental" else None,
                        manifest["rows"],
                        manifest["tombstones"],
                        json.dumps(manifest["totals"]),
                        manifest["content_sha256"],
                        self.manifest,
                    ),
                )
                acknowledgement = self._warehouse_figures(cr, tables)
            connection.commit()
        self._mark_sent()
        self._reconcile(acknowledgement)

    def _warehouse_figures(self, cr, tables):
        """What the warehouse holds of this load, counted and summed there:
        the whole table after a full reload, the period's rows after a
        period, the rows it wrote after an incremental load."""
        cr.execute(tables.landed_chunks(), (self.uid,))
        chunks = cr.fetchall()
        scope = self._warehouse_scope()
        parameters = self._scope_parameters(scope)
        totals = {}
        for total in DATASETS[self.dataset].totals:
            cr.execute(tables.landed_totals(total, scope), parameters)
            totals[total.amount] = cr.fetchall()
        if totals:
            # every live row is in one group of each total: the groups' counts
            # are the warehouse's count of the rows (no second scan)
            rows = sum(group[3] for group in next(iter(totals.values())))
        else:
            cr.execute(tables.landed_rows(scope), parameters)
            rows = cr.fetchone()[0]
        return bi_warehouse.acknowledgement(
            chunks, rows, totals, bi_encoding.content_hash
        )
