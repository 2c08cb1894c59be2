from odoo import fields, models


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

    def _action_open_messages(self, domain):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = [("backend_id", "=", self.id), *domain]
        action["context"] = {"default_backend_id": self.id}
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

    def action_open_failed_messages(self):
        return self._action_open_messages([("state", "in", ("failed", "dead"))])

    def action_open_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_binding_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action
