import threading
import time
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

from .common import MasterKeyMixin, supplier_event

JOBS = 20
VAT = "BE0999999999"


@tagged("post_install", "-at_install")
class TestExceptionConcurrency(MasterKeyMixin, BaseCase):
    """Issue 14: three duplicate-VAT events at once failed on the exception
    insert with a serialization error and stayed in Processing until their
    lease expired. Here twenty events of one cause are processed by twenty
    jobs at once, each in its own committing transactions.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_master_key()
        cls.db = db_connect(get_db_name())
        with cls.db.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["fih.backend"].create(
                {"name": "Cause race", "code": "cause-race", "kind": "other"}
            )
            cls.backend_id = backend.id
            cls.channel_id = backend.channel_id.id
            cls.partner_id = (
                env["res.partner"].create({"name": "Race NV", "vat": VAT}).id
            )
            results = env["fih.intake"]._store_inbound_events(
                backend.id,
                backend.company_id.id,
                [supplier_event(n, vat=VAT) for n in range(1, JOBS + 1)],
                "msg_cause_race",
                "race",
            )
            cls.message_ids = [r["message_id"] for r in results]
            # claimed, as a drain job leaves them before processing
            cr.execute(
                "UPDATE fih_message SET state = 'processing', attempts = 1,"
                " lease_until = now() AT TIME ZONE 'UTC' + interval '15 minutes'"
                " WHERE id IN %s",
                (tuple(cls.message_ids),),
            )
        cls.addClassCleanup(cls._cleanup)

    @classmethod
    def _cleanup(cls):
        with cls.db.cursor() as cr:
            backend = (cls.backend_id,)
            cr.execute(
                "SELECT id FROM fih_exception_group WHERE backend_id = %s", backend
            )
            groups = tuple(row[0] for row in cr.fetchall()) or (0,)
            cr.execute(
                "DELETE FROM mail_activity WHERE res_model = 'fih.exception.group'"
                " AND res_id IN %s",
                (groups,),
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model IN"
                " ('fih.exception.group', 'fih.backend', 'fih.message')"
                " AND res_id IN %s",
                (groups + backend + tuple(cls.message_ids),),
            )
            cr.execute(
                "DELETE FROM queue_job WHERE identity_key LIKE %s",
                (f"fih-inbound-{cls.backend_id}-%",),
            )
            cr.execute("DELETE FROM fih_message WHERE backend_id = %s", backend)
            cr.execute("DELETE FROM fih_exception_group WHERE backend_id = %s", backend)
            cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'fih.backend' "
                "AND res_id = %s",
                backend,
            )
            cr.execute("DELETE FROM fih_backend WHERE id = %s", backend)
            cr.execute("DELETE FROM queue_job_channel WHERE id = %s", (cls.channel_id,))
            cr.execute("DELETE FROM res_partner WHERE id = %s", (cls.partner_id,))

    @staticmethod
    def _process_in_own_job(env, message_id, barrier, errors):
        try:
            barrier.wait()
            env["fih.message"].browse(message_id)._process()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(repr(exc))

    def test_twenty_jobs_failing_for_one_cause_file_one_exception(self):
        barrier = threading.Barrier(JOBS)
        errors = []
        # Environments are made here: making them in a thread would wait for
        # the registry lock that the test runner holds.
        # The jobs' own work runs on cursors _process opens; the cursor of
        # this environment is not queried (one for all keeps the connection
        # pool for the jobs).
        cr = self.db.cursor()
        self.addCleanup(cr.close)
        envs = [api.Environment(cr, SUPERUSER_ID, {})] * JOBS
        threads = [
            threading.Thread(
                target=self._process_in_own_job,
                args=(env, message_id, barrier, errors),
            )
            for env, message_id in zip(envs, self.message_ids, strict=True)
        ]
        # Cursors the jobs open come with their transaction: an environment
        # made on a bare cursor would wait for the runner's registry lock.
        original = Registry.cursor

        def cursor_with_transaction(registry, readonly=False):
            cr = original(registry, readonly=readonly)
            if cr.transaction is None:
                cr.transaction = api.Transaction(registry)
            return cr

        patcher = patch.object(Registry, "cursor", cursor_with_transaction)
        patcher.start()
        self.addCleanup(patcher.stop)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 90
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.assertFalse([t for t in threads if t.is_alive()], "a job hangs")
        self.assertEqual(errors, [])
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT state, count(*), count(DISTINCT exception_group_id),"
                "       count(exception_group_id), string_agg(DISTINCT cause_code, ',')"
                "  FROM fih_message WHERE backend_id = %s GROUP BY state",
                (self.backend_id,),
            )
            rows = cr.fetchall()
            self.assertEqual(
                rows, [("failed", JOBS, 1, JOBS, "supplier.duplicate_vat")]
            )
            cr.execute(
                "SELECT id FROM fih_exception_group WHERE backend_id = %s",
                (self.backend_id,),
            )
            groups = cr.fetchall()
            self.assertEqual(len(groups), 1)
            cr.execute(
                "SELECT count(*) FROM mail_activity"
                " WHERE res_model = 'fih.exception.group' AND res_id = %s",
                groups[0],
            )
            self.assertEqual(cr.fetchone()[0], 1)
