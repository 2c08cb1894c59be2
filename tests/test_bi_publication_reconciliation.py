from odoo.tests import tagged
from odoo.tools import mute_logger

from .bi_common import MAIL, BiPublicationCase


@tagged("post_install", "-at_install")
class TestBiPublicationReconciliation(BiPublicationCase):
    """The reconciliation checkpoint: acknowledgements, mismatches and SLAs."""

    @mute_logger(MAIL)
    def test_a_mismatch_reported_by_the_platform_alerts_the_owner(self):
        self.bill([(1, 10.0), (1, 20.0)])
        publication = self.publication(owner_id=self.env.ref("base.user_admin").id)
        self.warehouse.lose_rows = 1
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "mismatch")
        self.assertIn(
            "Rows: sent 2, the reporting platform counted 1.", load.differences
        )
        activity = publication.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.env.ref("base.user_admin"))
        self.assertEqual(publication.status, "attention")

    def test_a_later_signed_acknowledgement_reconciles_the_load(self):
        self.bill([(1, 10.0)])
        publication = self.publication()
        self.warehouse.acknowledge = "async"
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "awaiting_ack")
        acknowledgement = self.warehouse.acknowledgements[load.uid]
        intake = self.env["fih.bi.acknowledgement.intake"]

        def send(payload, secret=None):
            body, headers = self.signed(payload, secret=secret)
            return intake._receive(
                self.bi.code,
                headers,
                lambda limit: body[:limit],
                headers["content-type"],
                len(body),
            )

        self.assertEqual(send(acknowledgement, secret="whsec_" + "A" * 32).status, 401)
        self.assertEqual(
            send({"load_id": "no-such-load"}, secret=self.bi_secret).status, 409
        )
        # an acknowledgement without figures proves nothing
        bare = send({"load_id": load.uid}, secret=self.bi_secret)
        self.assertEqual(bare.payload["state"], "mismatch")
        self.assertIn("does not state the rows", " ".join(bare.payload["differences"]))
        result = send(acknowledgement, secret=self.bi_secret)
        self.assertEqual(result.status, 200)
        self.assertEqual(result.payload["state"], "reconciled")
        self.assertEqual(load.state, "reconciled")
        tampered = dict(acknowledgement, totals=[])
        result = send(tampered, secret=self.bi_secret)
        self.assertEqual(result.payload["state"], "mismatch")
        self.assertTrue(result.payload["differences"])

    @mute_logger(MAIL)
    def test_a_load_past_its_sla_and_an_overdue_schedule_alert_the_owner(self):
        publication = self.publication(schedule="nightly", sla_minutes=30)
        self.sim.add_fault(kind="status", status=503)
        with self.trapped_jobs():
            load = publication._start_load("full")
        self.env.cr.execute(
            "UPDATE fih_bi_load SET create_date = %s", (self.ago(hours=2),)
        )
        self.env.cr.execute(
            "UPDATE fih_bi_publication SET create_date = %s", (self.ago(days=3),)
        )
        self.env.invalidate_all()
        with self.trapped_jobs():
            self.env["fih.bi.publication"]._cron_check_sla()
        summaries = publication.activity_ids.mapped("summary")
        self.assertIn("Load past its SLA: Spend to the warehouse", summaries)
        self.assertIn("Publication overdue: Spend to the warehouse", summaries)
        self.assertTrue(load.sla_breached)
        with self.trapped_jobs():
            self.env["fih.bi.publication"]._cron_check_sla()
        self.assertEqual(len(publication.activity_ids), 2)  # not repeated
