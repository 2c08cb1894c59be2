from odoo import models

from ..lib import circuit_breaker
from ..tools import read_committed_cursor

BREAKER_COLUMNS = ["breaker_status", "breaker_failures", "breaker_opened_at"]


class FihDeliveryBreaker(models.AbstractModel):
    """The circuit breaker of a backend's deliveries, shared by every
    worker: read as committed, changed atomically in a short transaction of
    its own, and its opening told to the backend's owner."""

    _inherit = "fih.delivery"

    def _circuit_breaker(self, backend):
        return circuit_breaker.CircuitBreaker(
            failure_threshold=max(backend.breaker_threshold, 1),
            cooldown_seconds=backend.breaker_cooldown_seconds,
        )

    def _breaker_state(self, backend):
        """The breaker as committed now (not as this transaction saw it)."""
        backend.ensure_one()
        self.env["fih.backend"].flush_model(BREAKER_COLUMNS)
        with read_committed_cursor(self.env.registry) as cr:
            return self._read_breaker(cr, backend)

    def _read_breaker(self, cr, backend, lock=False):
        cr.execute(
            "SELECT breaker_status, breaker_failures, breaker_opened_at "
            "FROM fih_backend WHERE id = %s" + (" FOR UPDATE" if lock else ""),
            (backend.id,),
        )
        status, failures, opened_at = cr.fetchone()
        return circuit_breaker.BreakerState(
            status=status or "closed",
            consecutive_failures=failures or 0,
            opened_at=opened_at or None,
        )

    def _update_breaker(self, backend, change):
        """Apply ``change(state) -> state`` atomically across workers, in a
        short transaction of its own; return ``(old, new)``."""
        backend.ensure_one()
        with read_committed_cursor(self.env.registry) as cr:
            old = self._read_breaker(cr, backend, lock=True)
            new = change(old)
            if new != old:
                # raw SQL: workers update it concurrently, tracking would be noise
                cr.execute(
                    "UPDATE fih_backend SET breaker_status = %s, breaker_failures = %s,"
                    " breaker_opened_at = %s WHERE id = %s",
                    (new.status, new.consecutive_failures, new.opened_at, backend.id),
                )
        backend.invalidate_recordset(BREAKER_COLUMNS)
        return old, new

    def _store_breaker_state(self, backend, state):
        self._update_breaker(backend, lambda _old: state)

    def _notify_breaker_opened(self, backend, reason):
        backend = backend.sudo()
        backend.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Deliveries to %s are paused", backend.name),
            note=self.env._(
                "%(count)s deliveries failed in a row; the last one: %(reason)s. "
                "Deliveries resume by themselves once a probe succeeds.",
                count=backend.breaker_threshold,
                reason=reason,
            ),
            user_id=(backend.owner_id or self.env.ref("base.user_admin")).id,
        )
