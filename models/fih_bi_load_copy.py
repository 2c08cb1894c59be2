import tempfile

from odoo import models
from odoo.tools import SQL

from ..lib import bi_copy
from .fih_bi_load import LoadStopped


class FihBiLoadCopy(models.Model):
    """Loads into a warehouse or Parquet files read their rows with
    PostgreSQL's ``COPY (<query>) TO STDOUT`` as CSV, spooled in chunks
    (lib/bi_copy.py): the rows are computed once and never turned into
    Python values; Arrow parses and sums what the hub checks itself."""

    _inherit = "fih.bi.load"

    def _reads_by_copy(self):
        """Whether this load's destination takes COPY lines (sinks say so)."""
        return False

    def _money_scale(self):
        """Decimal places of the money columns: the most any currency in use
        has (nothing finer is ever stored in Odoo's amounts)."""
        self.env.cr.execute(
            "SELECT max(decimal_places) FROM res_currency WHERE active OR id = %s",
            (self.company_id.currency_id.id,),
        )
        return self.env.cr.fetchone()[0] or 2

    def _encode_copy(self, raw, count):
        """(bytes as delivered, rows, live flags, control totals) of one
        chunk of ``count`` COPY lines (``raw``); each destination encodes
        its own way. ``rows`` is any sequence of ``count`` items."""
        raise NotImplementedError

    def _stream_chunks(self, stream_cr):
        if not self._reads_by_copy():
            return super()._stream_chunks(stream_cr)
        reference_chunks = {
            chunk.sequence: chunk.sha256 for chunk in self.reference_load_id.chunk_ids
        }
        # the whole result is read once, in key order: plan for all of it and
        # do not spend longer compiling (JIT) than running
        stream_cr.execute(
            "SET LOCAL cursor_tuple_fraction = 1.0; SET LOCAL jit = off; "
            "SET LOCAL work_mem = '64MB'"
        )
        statement = SQL("COPY (%s) TO STDOUT WITH (FORMAT csv)", self._query())
        sequence = len(self.chunk_ids)
        with tempfile.TemporaryFile(prefix="fih-bi-load-") as file:
            spool = bi_copy.ChunkSpool(file, self.chunk_size)
            stream_cr._obj.copy_expert(
                stream_cr._obj.mogrify(statement.code, statement.params).decode(),
                spool,
            )
            try:
                spool.finish()
            except OSError as exc:
                raise LoadStopped(
                    self.env._(
                        "The server could not keep the rows read for this load "
                        "in its temporary folder (%s); the load resumes later. "
                        "If it happens again, ask your administrator to free "
                        "space there.",
                        exc.strerror or type(exc).__name__,
                    ),
                    retry=True,
                ) from None
            self._progress_begin_counted(spool)  # progress: what this run sends
            for chunk in spool.chunks:
                sequence += 1
                raw, rows, live, totals = self._encode_copy(
                    spool.read(chunk), chunk.rows
                )
                first = bi_copy.head(chunk.first)
                last = bi_copy.head(chunk.last)
                self._send_chunk(
                    sequence,
                    reference_chunks,
                    (raw, rows, live, totals),
                    (first.key, last.key, last.changed_at),
                )
                del raw, rows, live, totals  # one chunk in memory
        self._check_reference_count(sequence, reference_chunks)

    def _progress_begin_counted(self, spool):
        """Start the progress after what earlier runs sent, with the rows of
        this run counted as they were read. Committed at once: the total
        shows before the first chunk is sent."""
        sent_chunks = len(self.chunk_ids)
        done = self.rows + self.tombstones
        self._progress_start(
            total=done + spool.rows,
            chunks_total=sent_chunks + len(spool.chunks),
            done=done,
            chunks_done=sent_chunks,
            user=self.create_uid,
        )
        self._checkpoint()
