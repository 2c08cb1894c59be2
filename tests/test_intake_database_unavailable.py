from unittest.mock import patch

import psycopg2

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.finance_integration_hub.models.fih_cxml_intake import FihCxmlIntake
from odoo.addons.finance_integration_hub.models.fih_intake import (
    IntakeResult as FihIntakeResult,
)
from odoo.addons.finance_integration_hub.models.fih_webhook_intake import (
    FihWebhookIntake,
)


@tagged("post_install", "-at_install")
class TestIntakeDatabaseUnavailable(HttpCase):
    """The database restarting or failing over during a request: the sender
    is told to come back (503 + Retry-After), never a 500."""

    def _post(self, path, content_type):
        return self.url_open(
            path, data=b"{}", headers={"Content-Type": content_type}, timeout=30
        )

    @mute_logger("odoo.addons.finance_integration_hub.controllers.webhook")
    def test_webhook_answers_503_with_retry_after_when_database_is_gone(self):
        gone = psycopg2.OperationalError("server closed the connection unexpectedly")
        with patch.object(FihWebhookIntake, "_receive", side_effect=gone, create=True):
            response = self._post(
                "/finance_hub/webhook/demo-procurement", "application/json"
            )
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers["Retry-After"], "30")
        self.assertEqual(response.json()["error"], "database_unavailable")
        self.assertIn("send it again", response.json()["message"])

    @mute_logger("odoo.addons.finance_integration_hub.controllers.webhook")
    def test_cxml_answers_503_when_the_connection_is_closed(self):
        closed = psycopg2.InterfaceError("connection already closed")
        with patch.object(FihCxmlIntake, "_receive", side_effect=closed, create=True):
            response = self._post("/finance_hub/cxml/demo-procurement", "text/xml")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.headers["Retry-After"], "30")

    def test_concurrency_conflicts_are_left_to_odoo_retries(self):
        calls = []

        def conflict_once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise psycopg2.errors.SerializationFailure("concurrent update")
            return FihIntakeResult(202, {"accepted": 0})

        with (
            patch.object(
                FihWebhookIntake, "_receive", side_effect=conflict_once, create=True
            ),
            patch("odoo.service.model.random.uniform", return_value=0),
            # a conflict raised here has no PostgreSQL code for Odoo's log line
            patch(
                "odoo.service.model.errorcodes.lookup",
                return_value="SERIALIZATION_FAILURE",
            ),
        ):
            response = self._post(
                "/finance_hub/webhook/demo-procurement", "application/json"
            )
        self.assertEqual(response.status_code, 202)
        self.assertEqual(len(calls), 2)

    def test_other_errors_are_not_turned_into_503(self):
        with (
            patch.object(
                FihWebhookIntake, "_receive", side_effect=ValueError("bug"), create=True
            ),
            mute_logger("odoo.http"),
        ):
            response = self._post(
                "/finance_hub/webhook/demo-procurement", "application/json"
            )
        self.assertEqual(response.status_code, 500)
