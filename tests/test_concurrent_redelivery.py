import threading

from odoo import SUPERUSER_ID, api
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

from .common import MasterKeyMixin, supplier_event


@tagged("post_install", "-at_install")
class TestConcurrentRedelivery(MasterKeyMixin, BaseCase):
    """Real, committing transactions racing on one event: one row survives.

    A TransactionCase cannot show this (everything shares one transaction),
    so this test commits its own backend and removes it afterwards.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_master_key()
        cls.db = db_connect(get_db_name())
        with cls.db.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["fih.backend"].create(
                {"name": "Race test", "code": "race-test", "kind": "other"}
            )
            cls.backend_id = backend.id
            cls.channel_id = backend.channel_id.id
        cls.addClassCleanup(cls._cleanup)

    @classmethod
    def _cleanup(cls):
        with cls.db.cursor() as cr:
            backend = (cls.backend_id,)
            cr.execute(
                "DELETE FROM queue_job WHERE identity_key LIKE %s",
                (f"fih-inbound-{cls.backend_id}-%",),
            )
            cr.execute("DELETE FROM fih_message WHERE backend_id = %s", backend)
            cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'fih.backend' "
                "AND res_id = %s",
                backend,
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'fih.backend' AND res_id = %s",
                backend,
            )
            cr.execute("DELETE FROM fih_backend WHERE id = %s", backend)
            cr.execute("DELETE FROM queue_job_channel WHERE id = %s", (cls.channel_id,))

    @staticmethod
    def _store_in_own_transaction(env, barrier, results, index):
        backend = env["fih.backend"].browse(env.context["backend_id"])
        company_id = backend.company_id.id
        barrier.wait()
        results[index] = env["fih.intake"]._store_inbound_events(
            backend.id, company_id, [supplier_event(1)], f"msg_race_{index}", "race"
        )[0]
        env.cr.commit()

    def test_concurrent_redeliveries_store_one_message(self):
        senders = 6
        barrier = threading.Barrier(senders)
        results = [None] * senders
        # Environments are made here: making them in a thread would wait for
        # the registry lock that the test runner holds.
        envs = []
        for _index in range(senders):
            cr = self.db.cursor()
            self.addCleanup(cr.close)
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            envs.append(
                api.Environment(cr, SUPERUSER_ID, {"backend_id": self.backend_id})
            )
        threads = [
            threading.Thread(
                target=self._store_in_own_transaction, args=(env, barrier, results, i)
            )
            for i, env in enumerate(envs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM fih_message WHERE backend_id = %s",
                (self.backend_id,),
            )
            self.assertEqual(cr.fetchone()[0], 1)
        self.assertEqual(sum(1 for r in results if r and not r["duplicate"]), 1)
        self.assertEqual(sum(1 for r in results if r and r["duplicate"]), senders - 1)
        self.assertEqual(len({r["message_id"] for r in results}), 1)
