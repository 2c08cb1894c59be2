import logging
from contextlib import contextmanager

import psycopg2

from odoo import api, models, sql_db
from odoo.tools import config

from ..lib import read_replica

_logger = logging.getLogger(__name__)

MAX_LAG_PARAM = "finance_integration_hub.replica_max_lag_seconds"
DEFAULT_MAX_LAG_SECONDS = 30.0
# why the replica was not used, as shown on the dashboard and on the loads
UNREACHABLE_TEXT = (
    "the connection failed; a system administrator finds why in the server log"
)

# The replica's delay: none when every WAL record it received is replayed
# and it still streams from the primary; else the age of the last replayed
# transaction (an idle replica cut off from its primary then looks late,
# which sends the reads to the primary: the safe side). A server that is not
# in recovery is the primary itself.
_LAG_QUERY = """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
             AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver
                          WHERE status = 'streaming') THEN 0
        ELSE coalesce(extract(epoch FROM
                      clock_timestamp() - pg_last_xact_replay_timestamp()),
                      'Infinity')
    END
"""


class FihReadReplica(models.AbstractModel):
    """Read-only work on the PostgreSQL streaming replica when one is set
    up (``db_replica_host`` / ``db_replica_port`` in the Odoo configuration)
    and is at most ``finance_integration_hub.replica_max_lag_seconds``
    (30 by default) behind the primary; on the primary otherwise.

    One call::

        with env["fih.read.replica"]._reading() as (read_env, source):
            ...  # read with read_env; source.server, source.reason

    Every read inside the block sees one snapshot of one server: Odoo's
    cursors run REPEATABLE READ, and the lag is measured by the first
    statement of the replica's transaction, so the figures read are exactly
    those of that moment.
    """

    _name = "fih.read.replica"
    _description = "Reads on the database replica"

    @api.model
    def _max_lag_seconds(self):
        value = (
            self.env["ir.config_parameter"].sudo().get_param(MAX_LAG_PARAM) or ""
        ).strip()
        try:
            return float(value) if value else DEFAULT_MAX_LAG_SECONDS
        except ValueError:
            _logger.warning(
                "%s is not a number of seconds (%r): using %s",
                MAX_LAG_PARAM,
                value,
                DEFAULT_MAX_LAG_SECONDS,
            )
            return DEFAULT_MAX_LAG_SECONDS

    @api.model
    def _replica_configured(self):
        # Odoo's own test: an empty host means the local socket
        return config["db_replica_host"] is not False

    @api.model
    def _replica_cursor(self):
        """A new read-only cursor on the replica (raises when unreachable)."""
        return sql_db.db_connect(self.env.cr.dbname, readonly=True).cursor()

    @api.model
    def _replica_lag(self, cr):
        """Seconds the replica behind ``cr`` is late (0 when current)."""
        cr.execute(_LAG_QUERY)
        return float(cr.fetchone()[0])

    @api.model
    def _choose(self):
        """(ReadSource, replica cursor or None): where to read and why."""
        configured = self._replica_configured()
        # no replica: nothing to read, not even the setting (the dashboard's
        # cost stays the same from one view to the next)
        limit = self._max_lag_seconds() if configured else 0.0
        cr = lag = unreachable = None
        if configured:
            try:
                cr = self._replica_cursor()
                lag = self._replica_lag(cr)
            except psycopg2.Error as error:
                # the server's answer names its address and the login: for
                # the server log only; people read a plain sentence
                _logger.warning(
                    "The read replica could not be reached (%s): %s",
                    type(error).__name__,
                    (str(error).strip().splitlines() or ["no answer"])[0],
                )
                unreachable = UNREACHABLE_TEXT
                if cr is not None:
                    cr.close()
                    cr = None
        source = read_replica.choose(configured, lag, limit, unreachable)
        if source.server != read_replica.REPLICA and cr is not None:
            cr.close()
            cr = None
        if configured and cr is None:
            _logger.info("Reads fall back to the primary: %s", source.reason)
        return source, cr

    @api.model
    @contextmanager
    def _reading(self):
        """Yield ``(env, source)``: an environment to read with (on the
        replica, or this environment on the primary) and the ReadSource
        saying which server and why. Never write with it."""
        source, cr = self._choose()
        if cr is None:
            yield self.env, source
            return
        try:
            yield (
                api.Environment(cr, self.env.uid, self.env.context, su=self.env.su),
                source,
            )
        finally:
            cr.close()
