from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..lib import standard_webhooks
from ..simulator import WebhookSender
from .common import MasterKeyMixin, run_drain_job, supplier_event


@tagged("post_install", "-at_install")
class TestAdminTour(MasterKeyMixin, HttpCase):
    """A finance admin in the browser: create a backend, see a webhook from the
    simulator on the dashboard, retry the failed message."""

    # the exception handler's assignment e-mail cannot leave a test database
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_admin_creates_a_backend_sees_a_failure_and_retries_it(self):
        self._setup_master_key()
        self.start_tour(
            "/web#action=finance_integration_hub.fih_backend_action",
            "fih_create_backend",
            login="admin",
        )
        backend = self.env["fih.backend"].search([("code", "=", "tour-platform")])
        self.assertEqual(backend.name, "Tour procurement platform")
        secret = standard_webhooks.generate_secret()
        backend.webhook_secret = secret
        self.env.flush_all()  # the HTTP server reads the database
        # the simulator plays the procurement platform, over real HTTP
        url = f"{self.base_url()}/finance_hub/webhook/tour-platform"
        with WebhookSender(url, secret) as sender:
            status, answer, _headers = sender.send_event(
                supplier_event(1, address={"country_code": "ZZ"})
            )
        self.assertEqual(status, 202, answer)
        run_drain_job(backend)
        message = self.env["fih.message"].search([("backend_id", "=", backend.id)])
        self.assertEqual(message.state, "failed")
        self.start_tour(
            "/web#action=finance_integration_hub.fih_dashboard_action",
            "fih_retry_failed",
            login="admin",
        )
        message.invalidate_recordset()
        self.assertEqual(message.state, "received")
        self.assertEqual(message.operator_action_ids.action, "retry")
        self.assertEqual(message.operator_action_ids.user_id.login, "admin")
