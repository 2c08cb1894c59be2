import contextlib
import io
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

    def _encode_copy(self, raw, count):
        if not self._is_warehouse():
            return super()._encode_copy(raw, count)
        dataset = DATASETS[self.dataset]
        tables = self._warehouse_tables()
        money = pa.decimal128(38, self._money_scale())
        try:
            table = bi_copy.read_chunk(
                raw,
                tables.line_columns,
                {
                    bi_warehouse.KEY: pa.int64(),
                    bi_warehouse.LIVE: pa.bool_(),
                    **{total.amount: money for total in dataset.totals},
                },
                [bi_warehouse.KEY, bi_warehouse.LIVE, *dataset.total_columns],
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise LoadStopped(
                self._warehouse_text(f"an amount cannot be summed exactly ({exc})"),
                retry=False,
            ) from None
        live = table.column(bi_warehouse.LIVE)
        totals = bi_encoding.ControlTotals([], [])
        totals.merge(bi_copy.totals_of(table.filter(live), dataset.totals))
        # the keys stand for the rows: the last one bounds the chunk's sweep
        return raw, table.column(bi_warehouse.KEY).to_pylist(), live.to_pylist(), totals

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

    def _deliver_chunk(self, sequence, raw, rows, live, digest):
        if not self._is_warehouse():
            return super()._deliver_chunk(sequence, raw, rows, live, digest)
        started = time.monotonic()
        connection = self._warehouse()
        tables = self._warehouse_tables()
        soft = self.publication_id.warehouse_tombstones == "soft"
        scope = self._warehouse_scope()
        with self._warehouse_errors(connection):
            with connection.cursor() as cr:
                cr.copy_expert(tables.copy_statement(), io.BytesIO(raw), size=1 << 20)
                if scope == "load":
                    cr.execute(tables.upsert(), (self.uid,))
                else:
                    # a replacing load rewrites only the rows that changed,
                    # then removes those of its keys it did not bring
                    cr.execute(tables.update_changed(), (self.uid,))
                    cr.execute(tables.insert_missing(), (self.uid,))
                    cr.execute(
                        tables.sweep(soft, scope == "period", upto=True),
                        self._sweep_parameters(soft, scope, rows[-1]),
                    )
                if not all(live):
                    cr.execute(tables.remove(soft), (self.uid,) if soft else None)
                cr.execute(
                    tables.record_chunk(),
                    (self.uid, sequence, live.count(True), live.count(False), digest),
                )
            # the chunk, its merge and its record: one transaction
            self._warehouse_commit(connection, sequence)
        return 0, time.monotonic() - started, len(raw)

    def _sweep_parameters(self, soft, scope, upto=None):
        """The sweep's parameters: after the previous chunk's last key (the
        load's last key until this chunk is recorded), up to ``upto``."""
        parameters = [self.uid] if soft else []
        parameters.append(self.last_key or 0)
        if upto is not None:
            parameters.append(upto)
        if scope == "period":
            parameters += [self.period_start, self.period_end]
        return parameters

    def _warehouse_commit(self, connection, sequence):
        """Commit a chunk's transaction in the warehouse (a seam for the
        tests, which stop a load right after it)."""
        connection.commit()

    @contextlib.contextmanager
    def _warehouse_errors(self, connection):
        try:
            yield
        except psycopg2.OperationalError as exc:
            with contextlib.suppress(psycopg2.Error):
                connection.rollback()
            raise LoadStopped(
                self._warehouse_text(f"the connection was lost ({type(exc).__name__})")
                + " "
                + self.env._("The load resumes later."),
                retry=True,
            ) from None
        except psycopg2.Error as exc:
            with contextlib.suppress(psycopg2.Error):
                connection.rollback()
            reason = (exc.pgerror or str(exc)).strip().splitlines()[0]
            raise LoadStopped(
                self._warehouse_text(
                    f"the warehouse refused the data ({reason}); check that its "
                    "tables were not changed by hand"
                ),
                retry=False,
            ) from None

    def _send_manifest(self):
        if not self._is_warehouse():
            return super()._send_manifest()
        connection = self._warehouse()
        tables = self._warehouse_tables()
        soft = self.publication_id.warehouse_tombstones == "soft"
        manifest = json.loads(self.manifest)
        with self._warehouse_errors(connection):
            with connection.cursor() as cr:
                cr.execute(
                    tables.forget_chunks_after(), (self.uid, len(self.chunk_ids))
                )
                scope = self._warehouse_scope()
                if scope != "load":
                    # the keys after the last chunk's are no longer there
                    cr.execute(
                        tables.sweep(soft, scope == "period", upto=False),
                        self._sweep_parameters(soft, scope),
                    )
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
