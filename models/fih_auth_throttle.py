import math

from odoo import api, models

from . import fih_rate_counter

# failed authentications (wrong signature, wrong shared secret, unknown
# backend) a client address may make before it must wait; the wait doubles
# with every further failure, up to MAX_DELAY, and the count starts again
# after QUIET seconds without a failure
ADDRESS_LIMIT = 10
ADDRESS_BASE_DELAY = 30
# failures against one backend from all addresses together; once over, only
# addresses that authenticated to it recently are still heard
BACKEND_LIMIT = 50
BACKEND_BASE_DELAY = 60
MAX_DELAY = 15 * 60
QUIET = 15 * 60
# an address that authenticated within this time is the backend's own sender
TRUSTED_FOR = 30 * 24 * 3600
TRUST_REFRESH = 24 * 3600


class FihAuthThrottle(models.Model):
    """Failed authentications, counted per client address and per backend
    in a table of its own (no model: nobody reads it through the ORM),
    shared by every worker and updated race-free with INSERT .. ON CONFLICT.

    Why both: per address, a guesser is slowed down without touching anyone
    else; per backend, guessing from many addresses is slowed down too, but
    the backend's own sender (an address that authenticated recently) is
    never locked out by others' failures. Every count decays: after a quiet
    period it starts again, so no block lasts longer than the attack.
    """

    _inherit = "fih.rate.counter"

    def init(self):
        result = super().init()
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS fih_auth_failure (
                scope varchar NOT NULL,
                subject varchar NOT NULL,
                failures integer NOT NULL DEFAULT 0,
                last_failure_at double precision NOT NULL DEFAULT 0,
                blocked_until double precision NOT NULL DEFAULT 0,
                last_success_at double precision NOT NULL DEFAULT 0,
                PRIMARY KEY (scope, subject)
            )
            """
        )
        return result

    @api.model
    def _auth_state(self, backend_id, address):
        """Return ``(seconds to wait, state)``; ``state`` is handed back to
        :meth:`_auth_succeeded`."""
        now = fih_rate_counter._now()
        subjects = [("address", address)]
        if backend_id:
            subjects += [
                ("backend", str(backend_id)),
                ("trusted", f"{backend_id} {address}"),
            ]
        self.env.cr.execute(
            """
            SELECT scope, failures, blocked_until, last_success_at
              FROM fih_auth_failure
             WHERE (scope, subject) IN %s
            """,
            (tuple(subjects),),
        )
        rows = {scope: rest for scope, *rest in self.env.cr.fetchall()}
        address_failures, address_blocked, _ = rows.get("address", (0, 0, 0))
        _, backend_blocked, _ = rows.get("backend", (0, 0, 0))
        last_success = rows.get("trusted", (0, 0, 0))[2]
        trusted = now - last_success < TRUSTED_FOR
        blocked_until = address_blocked
        if not trusted:
            blocked_until = max(blocked_until, backend_blocked)
        wait = math.ceil(blocked_until - now) if blocked_until > now else 0
        return wait, {
            "address_failures": address_failures,
            "trust_stale": now - last_success > TRUST_REFRESH,
        }

    def _count_failure(self, scope, subject, limit, base_delay, now):
        """One more failure of ``subject``: the seconds it must now wait."""
        # the new count is computed from the row as it was (a quiet period
        # restarts it), hence written out where it is needed
        self.env.cr.execute(
            """
            INSERT INTO fih_auth_failure AS f
                   (scope, subject, failures, last_failure_at)
            VALUES (%(scope)s, %(subject)s, 1, %(now)s)
            ON CONFLICT (scope, subject) DO UPDATE SET
                   failures = (CASE WHEN GREATEST(f.last_failure_at, f.blocked_until)
                              < %(fresh)s THEN 1 ELSE f.failures + 1 END),
                   last_failure_at = %(now)s,
                   blocked_until = CASE
                       WHEN (CASE WHEN GREATEST(f.last_failure_at, f.blocked_until)
                              < %(fresh)s THEN 1 ELSE f.failures + 1 END) >= %(limit)s
                       THEN %(now)s + LEAST(%(max)s, %(base)s * power(2,
                           (CASE WHEN GREATEST(f.last_failure_at, f.blocked_until)
                              < %(fresh)s THEN 1 ELSE f.failures + 1 END) - %(limit)s))
                       ELSE f.blocked_until END
            RETURNING blocked_until
            """,
            {
                "scope": scope,
                "subject": subject,
                "now": now,
                "fresh": now - QUIET,
                "max": MAX_DELAY,
                "base": base_delay,
                "limit": limit,
            },
        )
        blocked_until = self.env.cr.fetchone()[0]
        return math.ceil(blocked_until - now) if blocked_until > now else 0

    @api.model
    def _auth_failed(self, backend_id, address):
        """Count a failed authentication; return the seconds the sender must
        now wait (0 while under the limits)."""
        now = fih_rate_counter._now()
        wait = self._count_failure(
            "address", address, ADDRESS_LIMIT, ADDRESS_BASE_DELAY, now
        )
        if backend_id:
            wait = max(
                wait,
                self._count_failure(
                    "backend", str(backend_id), BACKEND_LIMIT, BACKEND_BASE_DELAY, now
                ),
            )
        return wait

    @api.model
    def _auth_succeeded(self, backend_id, address, state):
        """A successful authentication: the address's failures are forgiven
        and it is remembered as the backend's sender (written at most daily,
        so that the usual request costs no write)."""
        if state["address_failures"]:
            self.env.cr.execute(
                """
                UPDATE fih_auth_failure SET failures = 0, blocked_until = 0
                 WHERE scope = 'address' AND subject = %s
                """,
                (address,),
            )
        if state["trust_stale"]:
            self.env.cr.execute(
                """
                INSERT INTO fih_auth_failure (scope, subject, last_success_at)
                VALUES ('trusted', %s, %s)
                ON CONFLICT (scope, subject)
                DO UPDATE SET last_success_at = EXCLUDED.last_success_at
                """,
                (f"{backend_id} {address}", fih_rate_counter._now()),
            )

    @api.autovacuum
    def _gc_auth_failures(self):
        now = fih_rate_counter._now()
        self.env.cr.execute(
            """
            DELETE FROM fih_auth_failure
             WHERE (scope = 'trusted' AND last_success_at < %s)
                OR (scope <> 'trusted'
                    AND GREATEST(last_failure_at, blocked_until) < %s)
            """,
            (now - TRUSTED_FOR, now - QUIET),
        )
