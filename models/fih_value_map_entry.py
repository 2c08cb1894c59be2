from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .fih_value_map import TARGET_MODELS


class FihValueMapEntry(models.Model):
    _name = "fih.value.map.entry"
    _description = "Cross-Reference Entry"
    _inherit = ["fih.audited.mixin"]
    _order = "map_id, sequence, id"

    map_id = fields.Many2one(
        "fih.value.map", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="map_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    external_value = fields.Char(
        required=True, help="Code as the external system sends it, e.g. NET30."
    )
    canonical_value = fields.Char(
        help="Value in the canonical model, e.g. '30 Days'. Empty: the Odoo "
        "record's name is used."
    )
    record_ref = fields.Reference(
        selection=TARGET_MODELS,
        string="Odoo Record",
        help="Odoo record this code stands for, e.g. the tax or analytic account.",
    )

    _sql_constraints = [
        (
            "external_uniq",
            "unique(map_id, external_value)",
            "This external code is already in the table.",
        ),
    ]

    @api.constrains("record_ref", "map_id")
    def _check_record_model(self):
        for entry in self:
            model = entry.map_id.target_model
            if entry.record_ref and model and entry.record_ref._name != model:
                raise ValidationError(
                    self.env._(
                        "Entries of '%(table)s' must point to a %(model)s.",
                        table=entry.map_id.name,
                        model=dict(TARGET_MODELS)[model],
                    )
                )

    @api.constrains("record_ref")
    def _check_record_visible(self):
        """An entry decides where documents go (company, supplier, tax, cost
        centre): its author must be allowed to see the record it points to,
        e.g. work in that company. The integration itself (superuser) may."""
        if self.env.su:
            return
        for entry in self:
            record = entry.record_ref
            if record and not record.exists().has_access("read"):
                raise AccessError(
                    self.env._(
                        "An entry of the cross-reference table '%(table)s' can "
                        "only point to a record you can see, e.g. a company you "
                        "work in. Choose another record, or ask an administrator "
                        "of that company to add the entry.",
                        table=entry.map_id.name,
                    )
                )

    def _canonical(self):
        self.ensure_one()
        if self.canonical_value:
            return self.canonical_value
        return self.record_ref.display_name if self.record_ref else self.external_value
