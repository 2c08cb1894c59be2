import json

from odoo import api, fields, models

from ..exceptions import FihPermanentError
from ..lib import canonical, envelope, mapping_engine, supplier_payload
from ..models.fih_sor_rule import OBJECT_TYPES


class FihMappingTryWizard(models.TransientModel):
    """Paste an external payload; see the canonical document and what Odoo
    would do with it. Nothing is written."""

    _name = "fih.mapping.try.wizard"
    _description = "Try a Mapping"

    mapping_id = fields.Many2one(
        "fih.mapping",
        help="Mapping to try. Empty: the payload is taken as canonical as is.",
    )
    backend_id = fields.Many2one(
        "fih.backend",
        compute="_compute_from_mapping",
        store=True,
        readonly=False,
        required=True,
    )
    object_type = fields.Selection(
        OBJECT_TYPES,
        compute="_compute_from_mapping",
        store=True,
        readonly=False,
        required=True,
    )
    sample_payload = fields.Text(
        help="The external system's JSON: the event's data, or a whole event."
    )
    canonical_result = fields.Text(string="Canonical Document", readonly=True)
    problems = fields.Text(readonly=True)
    preview = fields.Text(string="What Odoo Would Do", readonly=True)

    @api.depends("mapping_id")
    def _compute_from_mapping(self):
        for wizard in self:
            if wizard.mapping_id:
                wizard.backend_id = wizard.mapping_id.backend_id or wizard.backend_id
                wizard.object_type = wizard.mapping_id.object_type

    def action_try(self):
        self.ensure_one()
        # the backend and mapping are the caller's choice: only their own
        self.backend_id.check_access("read")
        self.mapping_id.check_access("read")
        canonical_result, problems, preview = self._run()
        self.write(
            {
                "canonical_result": canonical_result,
                "problems": "\n".join(problems) or False,
                "preview": "\n".join(preview) or False,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _sees_matches(self):
        """Whether the preview may name the records the sample matches: not
        for whoever sees this backend's data masked (a guessed IBAN or VAT
        number would name its holder)."""
        return self.env.su or (
            self.env.user.has_group("finance_integration_hub.group_fih_manager")
            or self.backend_id.sudo().data_classification in ("public", "internal")
        )

    def _run(self):
        """Return (canonical JSON text, problems, preview lines)."""
        try:
            data = envelope.parse_json(self.sample_payload or "")
        except envelope.EnvelopeError as exc:
            return False, [self.env._("The sample is not valid JSON: %s", exc)], []
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]  # a whole event was pasted
        try:
            document = self.mapping_id._apply(data) if self.mapping_id else data
        except mapping_engine.MappingError as exc:
            return False, [_line(error) for error in exc.errors], []
        text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
        problems = [
            _line(error) for error in canonical.validate(self.object_type, document)
        ]
        if problems:
            return text, problems, []
        try:
            company = self.env["fih.message"]._route_company(self.backend_id, document)
        except FihPermanentError as exc:
            return text, [str(exc)], []
        refusal = self.env["fih.sor.rule"]._owner_refusal(
            company, self.object_type, self.backend_id
        )
        if refusal:
            return text, [refusal], []
        if not self._sees_matches():
            return (
                text,
                [],
                [
                    self.env._(
                        "The records this sample would match are shown to "
                        "Integration Managers only: they would tell who holds a "
                        "bank account or tax number that you see masked."
                    )
                ],
            )
        handler = self.env["fih.handler"]._fih_handler_for_object(self.object_type)
        if handler is None:
            return text, [], [self.env._("No inbound flow applies this object yet.")]
        try:
            preview = handler._fih_preview(self.backend_id, document, company)
        except (FihPermanentError, supplier_payload.PayloadError) as exc:
            return text, [str(exc)], []
        return text, [], preview


def _line(error):
    return f"{error['path']}: {error['reason']}"
