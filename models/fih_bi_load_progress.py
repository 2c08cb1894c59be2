import math

from odoo import models
from odoo.tools import SQL


class FihBiLoad(models.Model):
    """A load shows its progress: rows sent of the rows in its snapshot, in
    chunks, committed with each accepted chunk on the load's own cursor."""

    _name = "fih.bi.load"
    _inherit = ["fih.bi.load", "fih.progress.mixin"]
    _fih_progress_unit = "rows"

    def _progress_begin(self, stream_cr, stream):
        """Count what this run still sends, in the snapshot the run reads
        (so the total is exact), and start the progress after what earlier
        runs sent. Committed at once: the total shows before the first chunk.

        The count is the run's own cursor (``stream``, declared SCROLL) moved
        to its end and back to its start: the rows are computed and ordered
        once, for the count and the chunks alike."""
        stream_cr.execute(SQL("MOVE FORWARD ALL IN %s", stream))
        remaining = stream_cr.rowcount
        stream_cr.execute(SQL("MOVE ABSOLUTE 0 IN %s", stream))
        sent_chunks = len(self.chunk_ids)
        done = self.rows + self.tombstones
        self._progress_start(
            total=done + remaining,
            chunks_total=sent_chunks + math.ceil(remaining / max(self.chunk_size, 1)),
            done=done,
            chunks_done=sent_chunks,
            user=self.create_uid,
        )
        self._checkpoint()
