import time
from contextlib import contextmanager

from odoo import fields, models

from ..lib import read_replica

# how long a load waits for the replica to replay its bound before it reads
# on the primary instead
REPLAY_WAIT_SECONDS = 10.0
REPLAY_POLL_SECONDS = 0.5


class FihBiLoadReplica(models.Model):
    """A load reads its rows on the read replica when one is current.

    The load fixes its bound (every change before it committed) on the
    primary first. The replica is used only once it has replayed the
    primary's WAL up to that moment, and the rows are then read in one
    snapshot taken after that check: the same rows the primary would give.
    Everything else (the lock, chunk records, watermark, manifest) stays on
    the primary.
    """

    _inherit = "fih.bi.load"

    read_from = fields.Char(
        string="Rows Read From",
        readonly=True,
        help="The database server this load's rows were read on (the read "
        "replica, or the primary and why).",
    )

    @contextmanager
    def _reading_cursor(self, primary_cr):
        """Yield ``(cursor, ReadSource)``: where this run reads its rows."""
        primary_cr.execute("SELECT pg_current_wal_lsn()")
        bound_lsn = primary_cr.fetchone()[0]
        with self.env["fih.read.replica"]._reading() as (read_env, source):
            if source.server != read_replica.REPLICA:
                yield primary_cr, source
                return
            if not self._replica_replayed(read_env.cr, bound_lsn):
                yield (
                    primary_cr,
                    read_replica.ReadSource(
                        read_replica.PRIMARY,
                        "The replica has not yet replayed the changes before this "
                        f"load (waited {REPLAY_WAIT_SECONDS:g} s): read from the "
                        "primary.",
                        source.lag_seconds,
                    ),
                )
                return
            yield read_env.cr, source

    def _replica_replayed(self, replica_cr, lsn):
        """Whether the replica has replayed the primary's WAL up to ``lsn``,
        waiting a little; its snapshot is dropped after each look, so the
        next statement reads everything replayed so far."""
        deadline = time.monotonic() + REPLAY_WAIT_SECONDS
        while True:
            replica_cr.execute(
                "SELECT NOT pg_is_in_recovery() "
                "OR coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)",
                (lsn,),
            )
            replayed = replica_cr.fetchone()[0]
            replica_cr.rollback()
            if replayed or time.monotonic() >= deadline:
                return replayed
            time.sleep(REPLAY_POLL_SECONDS)

    def _note_read_source(self, source):
        self.write({"read_from": source.reason})
