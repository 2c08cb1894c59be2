from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..lib import traffic_chart


class FihBackendNavigation(models.Model):
    """The backend form's smart buttons: what a backend has (messages,
    failures, mappings, bindings, publications) and the lists they open."""

    _inherit = "fih.backend"

    message_ids_count = fields.Integer(compute="_compute_message_counts")
    message_failed_count = fields.Integer(compute="_compute_message_counts")
    publication_count = fields.Integer(compute="_compute_publication_count")
    binding_count = fields.Integer(compute="_compute_binding_count")
    mapping_ids = fields.One2many("fih.mapping", "backend_id", string="Mappings")
    mapping_count = fields.Integer(compute="_compute_mapping_count")

    def _compute_message_counts(self):
        groups = self.env["fih.message"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id", "state"], ["__count"]
        )
        totals, failed = {}, {}
        for backend, state, count in groups:
            totals[backend.id] = totals.get(backend.id, 0) + count
            if state in ("failed", "dead"):
                failed[backend.id] = failed.get(backend.id, 0) + count
        for backend in self:
            backend.message_ids_count = totals.get(backend.id, 0)
            backend.message_failed_count = failed.get(backend.id, 0)

    def _compute_mapping_count(self):
        for backend in self:
            backend.mapping_count = len(
                backend.mapping_ids.filtered(lambda m: m.state != "superseded")
            )

    def action_open_mappings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_mapping_action"
        )
        # its own mappings, then the shipped templates it can start from
        action["domain"] = [
            "|",
            ("backend_id", "=", self.id),
            ("backend_id", "=", False),
        ]
        action["context"] = {"default_backend_id": self.id, "fih_backend_id": self.id}
        return action

    def _compute_binding_count(self):
        counts = dict(
            self.env["fih.binding"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.binding_count = counts.get(backend, 0)

    def _action_open_messages(self, domain, title=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = [("backend_id", "=", self.id), *domain]
        action["context"] = {"default_backend_id": self.id}
        if title:
            # the breadcrumb shows the display name
            action["name"] = action["display_name"] = f"{self.name}: {title}"
        return action

    def action_open_messages(self):
        return self._action_open_messages([])

    def _compute_publication_count(self):
        counts = dict(
            self.env["fih.bi.publication"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.publication_count = counts.get(backend, 0)

    def action_open_publications(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_bi_publication_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    # -- the dashboard's figures: each opens exactly the messages it counts --

    def action_open_failed_messages(self):
        """The messages to fix: needing attention or dead letters."""
        return self._action_open_messages(
            [("state", "in", traffic_chart.ATTENTION_STATES)], self.env._("to fix")
        )

    def action_open_waiting_messages(self):
        """The backlog: received or being processed."""
        return self._action_open_messages(
            [("state", "in", traffic_chart.WAITING_STATES)], self.env._("waiting")
        )

    def action_open_recent_messages(self):
        """The messages received in the current hour and the 23 before."""
        day_start, _week_start = traffic_chart.windows(fields.Datetime.now())
        return self._action_open_messages(
            [("received_at", ">=", fields.Datetime.to_string(day_start))],
            self.env._("last 24 hours"),
        )

    def action_open_traffic(self, start, end, attention=False):
        """The messages of one bar of the traffic chart: received between
        ``start`` and ``end`` (UTC), needing attention or the others."""
        try:
            since, until = (
                traffic_chart.parse_stamp(start),
                traffic_chart.parse_stamp(end),
            )
        except (TypeError, ValueError):
            raise UserError(
                self.env._(
                    "This period of the chart cannot be opened; reload the page."
                )
            ) from None
        if not since < until <= since + timedelta(days=2):
            raise UserError(
                self.env._(
                    "This period of the chart cannot be opened; reload the page."
                )
            )
        states = traffic_chart.ATTENTION_STATES
        domain = [
            ("received_at", ">=", fields.Datetime.to_string(since)),
            ("received_at", "<", fields.Datetime.to_string(until)),
            ("state", "in" if attention else "not in", states),
        ]
        return self._action_open_messages(
            domain,
            self.env._("need attention") if attention else self.env._("received"),
        )

    def action_open_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_binding_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action
