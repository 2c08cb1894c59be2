"""Which database server a read goes to: the streaming replica when one is
configured, reachable and close enough behind the primary, else the primary.
ORM-free; ``models/fih_read_replica.py`` measures and applies it."""

from typing import NamedTuple

REPLICA = "replica"
PRIMARY = "primary"


class ReadSource(NamedTuple):
    """Where a read went (``server``: replica or primary), why, and the
    replica's delay behind the primary in seconds when it was measured."""

    server: str
    reason: str
    lag_seconds: float | None = None
    configured: bool = True

    @property
    def fell_back(self):
        """A replica is configured but the read went to the primary: what
        shows the figures should say so (``reason``).

        >>> choose(True, 95.0, 30).fell_back, choose(False, None, 30).fell_back
        (True, False)
        >>> choose(True, 1.0, 30).fell_back
        False
        """
        return self.configured and self.server == PRIMARY


def choose(configured, lag_seconds, max_lag_seconds, unreachable=None):
    """The server to read from.

    ``configured``: a replica is set up (``db_replica_host``);
    ``lag_seconds``: its measured delay (None when not measured);
    ``unreachable``: why it could not be asked, when it could not.

    >>> choose(False, None, 30).server
    'primary'
    >>> source = choose(True, 2.5, 30)
    >>> source.server, source.lag_seconds
    ('replica', 2.5)
    >>> print(source.reason)
    Read from the replica, 2.5 s behind the primary (limit 30 s).
    >>> late = choose(True, 95.0, 30)
    >>> late.server, late.reason.split(":")[0]
    ('primary', 'The replica is 95.0 s behind the primary (limit 30 s)')
    >>> print(choose(True, None, 30, unreachable="connection refused").reason)
    The replica could not be reached (connection refused): read from the primary.
    >>> choose(True, 30.0, 30).server  # at the limit still counts as current
    'replica'
    """
    if not configured:
        return ReadSource(
            PRIMARY,
            "No read replica is configured: read from the primary.",
            configured=False,
        )
    if unreachable is not None or lag_seconds is None:
        return ReadSource(
            PRIMARY,
            f"The replica could not be reached ({unreachable or 'no answer'}): "
            "read from the primary.",
        )
    if lag_seconds > max_lag_seconds:
        return ReadSource(
            PRIMARY,
            f"The replica is {lag_seconds:.1f} s behind the primary (limit "
            f"{max_lag_seconds:g} s): read from the primary so the figures are "
            "current.",
            lag_seconds,
        )
    return ReadSource(
        REPLICA,
        f"Read from the replica, {lag_seconds:.1f} s behind the primary (limit "
        f"{max_lag_seconds:g} s).",
        lag_seconds,
    )
