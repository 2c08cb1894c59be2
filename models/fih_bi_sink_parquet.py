import json
import os
import time

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import config

from ..lib import bi_copy, bi_encoding, bi_parquet
from ..lib.bi_datasets import DATASETS
from .fih_bi_load import LoadStopped

ROOT_OPTION = "fih_bi_parquet_root"


def export_root():
    """The folder every Parquet publication writes under, from the Odoo
    configuration file: nobody can change it from the database."""
    return config.get(ROOT_OPTION) or ""


class FihBiPublicationFolder(models.Model):
    """Where a publication's Parquet files go: a folder under the export
    root of the server's configuration, chosen by a system administrator."""

    _inherit = "fih.bi.publication"

    parquet_folder = fields.Char(
        string="Folder",
        copy=False,
        help="Set by a system administrator: a folder under the export root "
        "configured on the server (fih_bi_parquet_root), e.g. finance/spend. "
        "The files of each dataset go to a sub-folder of that name.",
    )

    @api.constrains("parquet_folder")
    def _check_parquet_folder(self):
        for publication in self:
            if not publication.parquet_folder:
                continue
            try:
                bi_parquet.confine(export_root(), publication.parquet_folder)
            except bi_parquet.FolderError as exc:
                raise ValidationError(
                    self.env._(
                        "The folder of %(publication)s cannot be used: %(reason)s.",
                        publication=publication.name,
                        reason=exc,
                    )
                ) from None

    def _parquet_folder(self):
        self.ensure_one()
        try:
            return bi_parquet.confine(export_root(), self.parquet_folder)
        except bi_parquet.FolderError as exc:
            raise LoadStopped(
                self.env._(
                    "The folder of %(publication)s cannot be used: %(reason)s. "
                    "Ask a system administrator to set it.",
                    publication=self.name,
                    reason=exc,
                ),
                retry=False,
            ) from None


class FihBiLoadParquet(models.Model):
    """Loads into Parquet files: each chunk becomes a staged file of its
    own (written, then renamed); the manifest step joins them into the
    load's file, writes its manifest beside it and reads both back."""

    _inherit = "fih.bi.load"

    def _is_parquet(self):
        return self.publication_id.sink == "parquet"

    def _reads_by_copy(self):
        return self._is_parquet() or super()._reads_by_copy()

    def _query_outputs(self, dataset):
        if not self._is_parquet():
            return super()._query_outputs(dataset)
        return [f"feed.{name}" for name in dataset.column_names]

    def _arrow_schema(self):
        """The load's Arrow schema, worked out once per run."""
        key = f"fih_bi_arrow_schema_{self.id}"
        if key not in self.env.cr.cache:
            self.env.cr.cache[key] = self._new_arrow_schema()
        return self.env.cr.cache[key]

    def _new_arrow_schema(self):
        return bi_parquet.arrow_schema(
            DATASETS[self.dataset],
            self._money_scale(),
            with_op=self.mode == "incremental",
        )

    def _chunk_worker(self, reference_chunks):
        if not self._is_parquet():
            return super()._chunk_worker(reference_chunks)
        # everything the worker needs, read here: it never touches the ORM
        staging, _target = self._parquet_paths()
        schema = self._arrow_schema()
        dataset = DATASETS[self.dataset]
        reference = dict(reference_chunks) if self.reference_load_id else None

        def work(sequence, data, count, after_key, chunk):
            started = time.monotonic()
            table = bi_parquet.table_from_csv(schema, data, dataset.key_column)
            if table.num_rows != count:
                raise bi_copy.RowCountMismatch(count, table.num_rows)
            raw = bi_parquet.to_bytes(table)
            digest = bi_encoding.sha256(raw)
            if reference is not None and reference.get(sequence) != digest:
                raise bi_copy.ReferenceMismatch(sequence)
            tombstones = bi_parquet.tombstones(table)
            bi_parquet.write_bytes(self._chunk_path(staging, sequence), raw)
            return self._delivered(
                chunk,
                started,
                rows=count - tombstones,
                tombstones=tombstones,
                raw_bytes=len(raw),
                sha256=digest,
                # the sums are Arrow's, over the typed values in the file
                totals=bi_parquet.live_totals(table, dataset.totals),
            )

        return work

    def _chunk_failure(self, exc):
        if not self._is_parquet():
            return super()._chunk_failure(exc)
        if isinstance(exc, OSError):
            return LoadStopped(self._folder_text(exc), retry=True)
        return super()._chunk_failure(exc)

    # -- where the files go --------------------------------------------------

    def _parquet_paths(self):
        """(staging folder, the load's file) under the publication's folder;
        the folders are created, checked (no symbolic link, nothing outside
        the publication's folder) and the dataset's folder claimed for this
        publication."""
        folder = self.publication_id._parquet_folder()
        incremental = self.mode == "incremental"
        try:
            # the publication's folder itself was confined under the root
            os.makedirs(folder, exist_ok=True)
            staging = bi_parquet.make_folder(folder, bi_parquet.STAGING, self.uid)
            dataset_folder = bi_parquet.make_folder(folder, self.dataset)
            bi_parquet.claim(dataset_folder, self._parquet_owner())
            if incremental:
                dataset_folder = bi_parquet.make_folder(dataset_folder, "incremental")
        except bi_parquet.FolderError as exc:
            raise LoadStopped(
                self.env._(
                    "The folder of %(publication)s cannot be used: %(reason)s. "
                    "Ask a system administrator to check it.",
                    publication=self.publication_id.name,
                    reason=exc,
                ),
                retry=False,
            ) from None
        except OSError as exc:
            raise LoadStopped(self._folder_text(exc), retry=True) from None
        if incremental:
            stamp = self.bound_at.strftime("%Y%m%dT%H%M%S")
            name = bi_parquet.file_name(
                self.dataset, "incremental", run=(stamp, self.uid)
            )
        else:
            name = bi_parquet.file_name(
                self.dataset, self.mode, period=(self.period_start, self.period_end)
            )
        return staging, os.path.join(dataset_folder, name)

    def _parquet_owner(self):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"{uuid}:{self.publication_id.id}"

    def _chunk_path(self, staging, sequence):
        return os.path.join(staging, f"chunk-{sequence:06d}.parquet")

    def _folder_text(self, exc):
        return self.env._(
            "The folder of %(publication)s could not be written (%(reason)s); "
            "the load resumes later.",
            publication=self.publication_id.name,
            reason=exc.strerror or type(exc).__name__,
        )

    def _send_manifest(self):
        if not self._is_parquet():
            return super()._send_manifest()
        staging, target = self._parquet_paths()
        manifest_path = target + ".manifest.json"
        chunks = self.chunk_ids.sorted("sequence")
        parts = [self._chunk_path(staging, chunk.sequence) for chunk in chunks]
        try:
            if all(os.path.exists(part) for part in parts):
                self._check_parts(parts, chunks)
                bi_parquet.combine(parts, target, self._arrow_schema())
                self._write_file_manifest(target, manifest_path)
            elif not self._file_is_this_load(manifest_path):
                raise LoadStopped(
                    self.env._(
                        "The staged files of load %s are gone; start a full "
                        "reload or publish the period again.",
                        self.uid,
                    ),
                    retry=False,
                )
            acknowledgement = self._file_figures(target, manifest_path)
        except OSError as exc:
            raise LoadStopped(self._folder_text(exc), retry=True) from None
        bi_parquet.remove_staging(staging)
        self._mark_sent()
        self._reconcile(acknowledgement)

    def _check_parts(self, parts, chunks):
        """Each staged file must be the chunk that was recorded: a file of an
        interrupted attempt is never joined in."""
        for part, chunk in zip(parts, chunks, strict=True):
            if bi_parquet.file_sha256(part) != chunk.sha256:
                raise LoadStopped(
                    self.env._(
                        "The staged file of chunk %(sequence)s of load %(load)s "
                        "is not the chunk that was recorded; start a full reload "
                        "or publish the period again.",
                        sequence=chunk.sequence,
                        load=self.uid,
                    ),
                    retry=False,
                )

    def _write_file_manifest(self, target, manifest_path):
        file_hash = bi_parquet.file_sha256(target)
        document = dict(
            json.loads(self.manifest),
            file=os.path.basename(target),
            file_sha256=file_hash,
        )
        bi_parquet.write_bytes(
            manifest_path, json.dumps(document, indent=1, sort_keys=True).encode()
        )

    def _file_is_this_load(self, manifest_path):
        try:
            with open(manifest_path, "rb") as handle:
                return json.load(handle).get("load_id") == self.uid
        except (OSError, ValueError):
            return False

    def _file_figures(self, target, manifest_path):
        """The file's figures, read back from it, as an acknowledgement."""
        dataset = DATASETS[self.dataset]
        rows, tombstones, sums = bi_parquet.file_figures(
            target, dataset.totals, dataset.key_column
        )
        with open(manifest_path, "rb") as handle:
            beside = json.load(handle)
        file_hash = bi_parquet.file_sha256(target)
        totals = bi_encoding.ControlTotals([], [])
        totals.merge(
            {
                "amount": amount,
                "currency": currency,
                "company": company,
                "rows": count,
                "total": str(total),
            }
            for (amount, currency, company), (total, count) in sums.items()
        )
        return {
            "rows": rows,
            "tombstones": tombstones,
            "totals": totals.as_list(),
            # the manifest beside the file must describe this very file
            "content_sha256": (
                beside.get("content_sha256")
                if beside.get("file_sha256") == file_hash
                else "the file differs from its manifest"
            ),
        }
