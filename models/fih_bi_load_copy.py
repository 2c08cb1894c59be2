import concurrent.futures
import tempfile
import threading
import time

import pyarrow as pa

from odoo import models
from odoo.tools import SQL

from ..lib import bi_copy, bi_encoding
from .fih_bi_load import LoadStopped

WAITING_CHUNKS = 2  # spooled chunks held in memory for the worker, at most


class FihBiLoadCopy(models.Model):
    """Loads into a warehouse or Parquet files read their rows with
    PostgreSQL's ``COPY (<query>) TO STDOUT`` as CSV, spooled in chunks
    (lib/bi_copy.py): the rows are computed once and never turned into
    Python values; Arrow parses and sums what the hub checks itself.

    Each spooled chunk is delivered by the destination's *chunk worker* in
    a thread of its own while PostgreSQL still renders the next rows; the
    hub records the delivered chunks, in order, once the COPY has ended
    (the reading transaction's connection does nothing else meanwhile). The
    worker never touches the ORM: it gets what it needs before the COPY.
    A chunk a worker delivered whose record was lost with a killed worker
    is delivered again when the load resumes, and the destinations take it
    again without a duplicate (merged by key, or the same staged file)."""

    _inherit = "fih.bi.load"

    def _reads_by_copy(self):
        """Whether this load's destination takes COPY lines (sinks say so)."""
        return False

    def _chunk_worker(self, reference_chunks):
        """The destination's ``work(sequence, data, count, after_key, chunk)
        -> bi_encoding.Delivered``, prepared in this thread and run in
        another: it delivers one chunk of CSV lines (``data``, ``count``
        rows; ``after_key`` the previous chunk's last key) or raises."""
        raise NotImplementedError

    def _chunk_failure(self, exc):
        """The LoadStopped a worker's failure means (sinks translate their
        own connection and file errors); anything else goes up as it is."""
        if isinstance(exc, bi_copy.ReferenceMismatch):
            return self._reference_stop(exc.sequence)
        if isinstance(exc, pa.ArrowInvalid | pa.ArrowTypeError):
            return LoadStopped(
                self.env._(
                    "A value does not fit its typed column (%s); nothing of this "
                    "chunk was written. Give the detail to your integration team.",
                    exc,
                ),
                retry=False,
            )
        if isinstance(exc, bi_copy.RowCountMismatch):
            return LoadStopped(
                self.env._(
                    "A chunk was not read back whole (%s); nothing of it was "
                    "written. Give this to your integration team.",
                    exc,
                ),
                retry=False,
            )
        return exc

    @staticmethod
    def _delivered(chunk, started, **figures):
        """What the hub records of a chunk a worker delivered: its
        ``figures`` (rows, tombstones, raw_bytes, sha256, totals), its keys
        from its first and last line, and the time it took."""
        first, last = bi_copy.head(chunk.first), bi_copy.head(chunk.last)
        return bi_encoding.Delivered(
            sent=figures["raw_bytes"],
            status=0,
            seconds=time.monotonic() - started,
            first_key=first.key,
            last_key=last.key,
            last_changed_at=last.changed_at,
            **figures,
        )

    def _money_scale(self):
        """Decimal places of the money columns: the most any currency in use
        has (nothing finer is ever stored in Odoo's amounts)."""
        self.env.cr.execute(
            "SELECT max(decimal_places) FROM res_currency WHERE active OR id = %s",
            (self.company_id.currency_id.id,),
        )
        return self.env.cr.fetchone()[0] or 2

    def _stream_chunks(self, stream_cr):
        if not self._reads_by_copy():
            return super()._stream_chunks(stream_cr)
        reference_chunks = {
            chunk.sequence: chunk.sha256 for chunk in self.reference_load_id.chunk_ids
        }
        worker = self._chunk_worker(reference_chunks)
        # the whole result is read once, in key order: plan for all of it and
        # do not spend longer compiling (JIT) than running
        stream_cr.execute(
            "SET LOCAL cursor_tuple_fraction = 1.0; SET LOCAL jit = off; "
            "SET LOCAL work_mem = '64MB'"
        )
        statement = SQL("COPY (%s) TO STDOUT WITH (FORMAT csv)", self._query())
        first = len(self.chunk_ids) + 1
        with (
            tempfile.TemporaryFile(prefix="fih-bi-load-") as file,
            concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="fih-bi-load"
            ) as pool,
        ):
            spool, futures = self._copy_beside(
                stream_cr, statement, file, pool, worker, first
            )
            try:
                self._progress_begin_counted(spool)  # progress: this run's rows
                for sequence, future in enumerate(futures, first):
                    try:
                        delivered = future.result()
                    except Exception as exc:  # noqa: BLE001 - translated, raised
                        raise self._chunk_failure(exc) from None
                    self._record_chunk(sequence, delivered)
            except BaseException:
                for future in futures:
                    future.cancel()  # not delivered: the load resumes there
                raise
        self._check_reference_count(first - 1 + len(futures), reference_chunks)

    def _copy_beside(self, stream_cr, statement, file, pool, worker, first):
        """Run the COPY into the spool, each chunk handed to ``worker`` in
        ``pool`` as soon as it is spooled; (spool, futures in order)."""
        futures = []
        after = [self.last_key or 0]
        stopped = threading.Event()

        def deliver(sequence, data, count, after_key, chunk):
            if stopped.is_set():
                raise bi_copy.Skipped()
            try:
                return worker(sequence, data, count, after_key, chunk)
            except BaseException:
                stopped.set()  # nothing after a failed chunk is delivered
                raise

        def spooled(chunk, data):
            futures.append(
                pool.submit(
                    deliver, first + len(futures), data, chunk.rows, after[0], chunk
                )
            )
            after[0] = bi_copy.head(chunk.last).key
            # memory: the COPY waits while the worker is behind
            waiting = [future for future in futures if not future.done()]
            if len(waiting) > WAITING_CHUNKS:
                concurrent.futures.wait(waiting[:-WAITING_CHUNKS])

        spool = bi_copy.ChunkSpool(file, self.chunk_size, on_chunk=spooled)
        try:
            stream_cr._obj.copy_expert(
                stream_cr._obj.mogrify(statement.code, statement.params).decode(),
                spool,
            )
            spool.finish()
        except OSError as exc:
            stopped.set()
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
        except BaseException:
            stopped.set()
            raise
        return spool, futures

    def _progress_begin_counted(self, spool):
        """Start the progress after what earlier runs sent, with the rows of
        this run counted as they were read. Committed at once: the total
        shows before the first chunk is recorded."""
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
