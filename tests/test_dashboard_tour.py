from odoo.tests import HttpCase, tagged

from .common import MasterKeyMixin


@tagged("post_install", "-at_install")
class TestDashboardTour(MasterKeyMixin, HttpCase):
    """In the browser: problems first, and a count opens what it counts."""

    def test_the_failing_system_comes_first_and_its_count_opens_its_messages(self):
        self._setup_master_key()
        Backend = self.env["fih.backend"]
        healthy = Backend.create(
            {"name": "Tour healthy platform", "code": "tour-healthy", "kind": "other"}
        )
        failing = Backend.create(
            {"name": "Tour failing platform", "code": "tour-failing", "kind": "other"}
        )
        # no other backend of the database comes before it
        others = Backend.search([("id", "not in", (healthy | failing).ids)])
        self.assertFalse(
            others.filtered(
                lambda b: b.health_status == "down" and b.dashboard_to_fix >= 3
            )
        )
        self.env["fih.message"].create(
            [
                {
                    "backend_id": backend.id,
                    "event_type": "supplier.upsert",
                    "idempotency_key": f"tour-{backend.code}-{n}",
                    "state": state,
                }
                for backend, state, count in (
                    (healthy, "done", 4),
                    (failing, "failed", 3),
                )
                for n in range(count)
            ]
        )
        self.assertEqual(failing.dashboard_to_fix, 3)
        self.assertEqual(failing.health_status, "down")
        self.start_tour(
            "/web#action=finance_integration_hub.fih_dashboard_action",
            "fih_dashboard_problems_first",
            login="admin",
        )
