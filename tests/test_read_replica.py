import os
from unittest.mock import patch

import psycopg2

from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import config, mute_logger

from ..models.fih_read_replica import MAX_LAG_PARAM, FihReadReplica
from .common import FihTransactionCase, supplier_event


def _replica(host="", port=None):
    """Configure a replica for the test: an empty host is PostgreSQL's local
    socket, i.e. the test's own server (a server not in recovery reads as a
    replica with no delay)."""
    return patch.dict(
        config.options,
        {"db_replica_host": host, "db_replica_port": port or config["db_port"]},
    )


class TestReadReplica(TransactionCase):
    def setUp(self):
        super().setUp()
        self.reader = self.env["fih.read.replica"]

    def test_without_replica_reads_on_the_primary_and_says_so(self):
        with self.reader._reading() as (env, source):
            self.assertIs(env, self.env)
            partner_count = env["res.partner"].search_count([])
        self.assertEqual(source.server, "primary")
        self.assertIn("No read replica is configured", source.reason)
        self.assertGreater(partner_count, 0)

    def test_current_replica_gets_the_read_on_a_read_only_cursor(self):
        with _replica(), self.reader._reading() as (env, source):
            self.assertIsNot(env.cr, self.env.cr)
            self.assertTrue(env.cr.readonly)
            env.cr.execute("SELECT count(*) FROM res_users")
            self.assertGreater(env.cr.fetchone()[0], 0)
            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(psycopg2.errors.ReadOnlySqlTransaction),
            ):
                env.cr.execute("UPDATE res_users SET active = active WHERE id = 1")
        self.assertEqual(source.server, "replica")
        self.assertEqual(source.lag_seconds, 0.0)
        self.assertIn("Read from the replica", source.reason)
        self.assertTrue(env.cr.closed)

    def test_replica_behind_the_limit_falls_back_to_the_primary(self):
        with (
            _replica(),
            patch.object(FihReadReplica, "_replica_lag", return_value=95.0),
            self.reader._reading() as (env, source),
        ):
            self.assertIs(env, self.env)
        self.assertEqual(source.server, "primary")
        self.assertEqual(source.lag_seconds, 95.0)
        self.assertIn("95.0 s behind the primary (limit 30 s)", source.reason)

    def test_lag_limit_is_a_setting(self):
        self.env["ir.config_parameter"].sudo().set_param(MAX_LAG_PARAM, "120")
        with (
            _replica(),
            patch.object(FihReadReplica, "_replica_lag", return_value=95.0),
            self.reader._reading() as (env, source),
        ):
            self.assertIsNot(env, self.env)
        self.assertEqual(source.server, "replica")
        self.assertIn("limit 120 s", source.reason)

    def test_unreadable_lag_limit_uses_the_default(self):
        self.env["ir.config_parameter"].sudo().set_param(MAX_LAG_PARAM, "soon")
        self.assertEqual(self.reader._max_lag_seconds(), 30.0)

    def test_unreachable_replica_falls_back_to_the_primary(self):
        # nothing listens on port 1: the connection is refused
        with (
            _replica(host="127.0.0.1", port=1),
            self.reader._reading() as (env, source),
        ):
            self.assertIs(env, self.env)
        self.assertEqual(source.server, "primary")
        self.assertIn("could not be reached", source.reason)
        self.assertIsNone(source.lag_seconds)


@tagged("post_install", "-at_install")
class TestMetricsReadSource(HttpCase):
    def _scrape(self):
        with patch.dict(os.environ, {"FIH_METRICS_TOKEN": "replica-token"}):
            return self.url_open(
                "/finance_hub/metrics",
                headers={"Authorization": "Bearer replica-token"},
            )

    def test_metrics_say_they_were_read_on_the_primary_without_replica(self):
        response = self._scrape()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["X-FIH-Read-From"], "primary")
        self.assertIn("fih_metrics_read_from_replica 0.0", response.text)
        self.assertIn("# TYPE fih_messages_total gauge", response.text)

    def test_metrics_fall_back_when_the_replica_lags(self):
        with (
            _replica(),
            patch.object(FihReadReplica, "_replica_lag", return_value=300.0),
        ):
            response = self._scrape()
        self.assertEqual(response.headers["X-FIH-Read-From"], "primary")
        self.assertIn("fih_replica_lag_seconds 300.0", response.text)


@tagged("post_install", "-at_install")
class TestDashboardReadsOnTheReplica(FihTransactionCase):
    """The dashboard's figures come from the replica when it is current,
    from the primary when it lags, and then the card says so."""

    def setUp(self):
        super().setUp()
        self.receive({"events": [supplier_event(n) for n in (1, 2)]})
        self.messages().sudo().write({"state": "failed", "error_kind": "permanent"})
        self.env.flush_all()

    def card(self):
        self.backend.invalidate_recordset()
        return self.backend

    def test_without_replica_the_figures_are_the_primarys_and_nothing_is_said(self):
        card = self.card()
        self.assertEqual(card.dashboard_to_fix, 2)
        self.assertFalse(card.dashboard_read_note)

    def test_a_current_replica_gives_the_figures(self):
        # the test's replica is another connection to the same server: it
        # cannot see this test's uncommitted messages, so 0 proves the read
        # went there
        with _replica():
            card = self.card()
            self.assertEqual(card.dashboard_to_fix, 0)
            self.assertFalse(card.dashboard_read_note)

    def test_a_lagging_replica_falls_back_and_the_card_says_so(self):
        with (
            _replica(),
            patch.object(FihReadReplica, "_replica_lag", return_value=95.0),
        ):
            card = self.card()
            self.assertEqual(card.dashboard_to_fix, 2)
            self.assertIn(
                "The replica is 95.0 s behind the primary", card.dashboard_read_note
            )
            self.assertEqual(card.health_status, "down")
