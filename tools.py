"""Small helpers shared by the models: database isolation, the server's
secret box, the server's environment and the stored form of an event."""

import json
import os
from contextlib import contextmanager
from functools import lru_cache

from odoo.exceptions import UserError
from odoo.tools import config

from .lib.secret_box import MasterKeyError, SecretBox


@contextmanager
def read_committed_cursor(registry):
    """A new cursor whose transaction runs at READ COMMITTED, committed on exit.

    Odoo's REPEATABLE READ turns a row changed by a concurrent, committed
    transaction into a serialization error; for the queue-like statements of
    the hub (INSERT .. ON CONFLICT, UPDATE .. SKIP LOCKED) waiting for or
    skipping that row is the intended behaviour.
    """
    with registry.cursor() as cr:
        if not registry.in_test_mode():  # the test cursor is already in use
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr


def event_json(event):
    """The stored text of an inbound event: the exchange log fingerprints
    exactly these bytes, and every intake that compares contents uses it."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def database_environment():
    """prod, test or dev: from ``fih_environment`` in the Odoo config."""
    return (config.get("fih_environment") or "dev").strip().lower()


@lru_cache(maxsize=4)
def _secret_box_for(keys):
    return SecretBox(keys)


def master_keys():
    """The configured master keys, newest first; raises :class:`UserError`
    when none is set (the keyed fingerprints need one, like the secrets)."""
    keys = config.get("fih_master_key") or os.environ.get("FIH_MASTER_KEY") or ""
    keys = [key.strip() for key in keys.split(",") if key.strip()]
    if not keys:
        secret_box()  # raises the readable "no master key" error
    return keys


def secret_box():
    """The encryption box of this server; raises :class:`UserError` if unset."""
    keys = config.get("fih_master_key") or os.environ.get("FIH_MASTER_KEY") or ""
    try:
        return _secret_box_for(keys)
    except MasterKeyError as exc:
        raise UserError(str(exc)) from exc


def decrypt(token):
    """Plaintext of a stored secret; a wrong key is a :class:`UserError`."""
    try:
        return secret_box().decrypt(token)
    except MasterKeyError as exc:
        raise UserError(str(exc)) from exc


# -- liveness: PostgreSQL locks held by running work --------------------------
# A running drain or queue job holds a shared advisory lock in a transaction
# of its own, on a connection of its own, for as long as it runs. A worker
# that dies (kill -9, OOM, limit_time_real, a deployment) loses its
# connection, and PostgreSQL releases the lock at once: the sweeper, able to
# take the lock exclusively, knows that nobody runs that work any more.
# Lock keys: (namespace, 32-bit key); the namespaces are the hub's own.
DRAIN_LOCK_NAMESPACE = 0x0F1D
JOB_LOCK_NAMESPACE = 0x0F1E


def drain_lock_key(backend_id, direction):
    """The lock key of a backend's drain in one direction."""
    return backend_id * 2 + (1 if direction == "outbound" else 0)


@contextmanager
def liveness_lock(registry, namespace, key):
    """Hold a shared liveness lock while the block runs (see above).

    Under tests the registry hands out the test cursor, which must not be
    rolled back by this: no lock is taken there.
    """
    if registry.in_test_mode():
        yield
        return
    with registry.cursor() as cr:
        cr.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (namespace, key))
        try:
            yield
        finally:
            cr.rollback()  # ends the transaction: releases the lock


def somebody_holds(cr, namespace, key):
    """True when a live transaction holds the liveness lock ``key``; a look
    at PostgreSQL's lock table that takes no lock itself."""
    cr.execute(
        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND objid = %s AND objsubid = 2 LIMIT 1",
        (namespace, key),
    )
    return bool(cr.fetchone())


def nobody_holds(cr, namespace, key):
    """True when no live transaction holds the liveness lock ``key``; the
    caller's transaction then holds it exclusively until it ends."""
    cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (namespace, key))
    return cr.fetchone()[0]
