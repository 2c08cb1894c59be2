import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import BackendMixin, supplier_event


@tagged("post_install", "-at_install")
class TestExceptionTour(BackendMixin, HttpCase):
    """An exception handler in the browser: the exception's fix action, then
    Retry All with its confirmation and the exception resolved."""

    # the exception handler's assignment e-mail cannot leave a test database
    @mute_logger("odoo.addons.mail.models.mail_mail")
    def test_the_fix_action_then_retry_all_resolves_the_exception(self):
        backend = self._setup_backend()
        chf = self.env.ref("base.CHF")
        chf.active = False
        message = (
            self.env["fih.message"]
            .sudo()
            .create(
                {
                    "backend_id": backend.id,
                    "event_type": "supplier.upsert",
                    "idempotency_key": "tour-chf",
                    "payload": json.dumps(supplier_event(1)),
                    "state": "received",
                }
            )
        )
        problem = "Currency CHF is not active in Odoo; activate it or correct it."
        message.sudo().write(
            {"state": "failed", "error_kind": "business", "error_message": problem}
        )
        message._schedule_exception_activity(
            problem, "currency.inactive", {"code": "CHF"}
        )
        group = message.exception_group_id
        self.assertEqual(group.name, "Currency not active: CHF")
        self.env.flush_all()  # the HTTP server reads the database
        self.start_tour(
            "/web#action=finance_integration_hub.fih_exception_group_action",
            "fih_exception_fix_and_retry",
            login="admin",
        )
        self.env.invalidate_all()
        self.assertTrue(chf.active)
        self.assertEqual(message.state, "received")
        self.assertEqual(message.operator_action_ids.action, "retry")
        self.assertEqual(group.state, "resolved")
