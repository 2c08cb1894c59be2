import ipaddress
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


def counted_address(address):
    """The address failures are counted for: an IPv6 sender holds a whole
    /64 network, so its failures are counted per /64.

    >>> counted_address("2001:db8:1:2:aaaa::1")
    '2001:db8:1:2::/64'
    >>> counted_address("198.51.100.7")
    '198.51.100.7'
    >>> counted_address("not an address")
    'not an address'
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


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
        address = counted_address(address)
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
        own_failures, own_blocked, last_success = rows.get("trusted", (0, 0, 0))
        trusted = now - last_success < TRUSTED_FOR
        # the backend's own sender answers for its own failures only: others
        # sharing its address (a NAT, a proxy) do not silence it
        if trusted:
            blocked_until = own_blocked
        else:
            blocked_until = max(address_blocked, backend_blocked)
        wait = math.ceil(blocked_until - now) if blocked_until > now else 0
        return wait, {
            "address_failures": address_failures,
            "own_failures": own_failures if trusted else 0,
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
        address = counted_address(address)
        now = fih_rate_counter._now()
        wait = self._count_failure(
            "address", address, ADDRESS_LIMIT, ADDRESS_BASE_DELAY, now
        )
        if backend_id and self._is_trusted(backend_id, address, now):
            # counted against the address too, but the trusted sender waits
            # for its own failures against this backend only
            return self._count_failure(
                "trusted",
                f"{backend_id} {address}",
                ADDRESS_LIMIT,
                ADDRESS_BASE_DELAY,
                now,
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
    def _is_trusted(self, backend_id, address, now):
        self.env.cr.execute(
            """
            SELECT last_success_at FROM fih_auth_failure
             WHERE scope = 'trusted' AND subject = %s
            """,
            (f"{backend_id} {address}",),
        )
        row = self.env.cr.fetchone()
        return bool(row) and now - row[0] < TRUSTED_FOR

    @api.model
    def _auth_succeeded(self, backend_id, address, state):
        """A successful authentication: the address's failures are forgiven
        and it is remembered as the backend's sender (written at most daily,
        so that the usual request costs no write)."""
        address = counted_address(address)
        if state["address_failures"]:
            self.env.cr.execute(
                """
                UPDATE fih_auth_failure SET failures = 0, blocked_until = 0
                 WHERE scope = 'address' AND subject = %s
                """,
                (address,),
            )
        if state.get("own_failures"):
            self.env.cr.execute(
                """
                UPDATE fih_auth_failure SET failures = 0, blocked_until = 0
                 WHERE scope = 'trusted' AND subject = %s
                """,
                (f"{backend_id} {address}",),
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
