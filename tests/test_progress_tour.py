from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import BackendMixin, run_drain_job, supplier_event


@tagged("post_install", "-at_install")
class TestProgressTour(BackendMixin, HttpCase):
    """Issue 14: the bulk wizard said "Selected messages 0" and nothing of
    what it did. In the browser, it counts and confirms."""

    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_bulk_retry_in_the_browser_counts_and_confirms(self):
        backend = self._setup_backend(code="tour-bulk")
        self.env.flush_all()  # the intake reads the secret on its own cursor
        body, headers = self.signed(
            {
                "events": [
                    supplier_event(n, address={"country_code": "ZZ"})
                    for n in (801, 802)
                ]
            }
        )
        result = self.env["fih.webhook.intake"]._receive(
            backend.code,
            headers,
            lambda limit: body[:limit],
            headers["content-type"],
            len(body),
        )
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(backend)
        messages = self.env["fih.message"].search([("backend_id", "=", backend.id)])
        self.assertEqual(messages.mapped("state"), ["failed", "failed"])
        self.env.flush_all()  # the browser reads the database
        self.start_tour(
            "/web#action=finance_integration_hub.fih_message_action_attention",
            "fih_bulk_retry",
            login="admin",
        )
        messages.invalidate_recordset()
        self.assertEqual(set(messages.mapped("state")), {"received"})
        # a large one runs in the background: its progress shows while it runs
        admin = self.env.ref("base.user_admin")
        with trap_jobs() as trap:
            operation = (
                self.env["fih.bulk.operation"]
                .with_user(admin)
                ._start("cancel", messages, "tour", {})
            )
        self.assertEqual(len(trap.enqueued_jobs), 1)  # not run: still running
        self.env.flush_all()
        self.start_tour(
            "/web#action=finance_integration_hub.fih_bulk_operation_action",
            "fih_bulk_progress",
            login="admin",
        )
        self.assertEqual(operation.state, "running")
        self.assertEqual(
            messages.operator_action_ids.mapped("user_id.login"), ["admin"]
        )
