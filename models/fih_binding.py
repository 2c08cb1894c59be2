from odoo import fields, models

from .fih_sor_rule import OBJECT_TYPES


class FihBinding(models.Model):
    _name = "fih.binding"
    _inherit = ["fih.record.reference.mixin", "fih.company.locked.mixin"]
    _description = "External ID Binding"
    _order = "backend_id, object_type, external_id"
    _rec_name = "external_id"

    backend_id = fields.Many2one(
        "fih.backend", required=True, ondelete="restrict", index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="backend_id.company_id", store=True, index=True
    )
    object_type = fields.Selection(
        OBJECT_TYPES,
        required=True,
        readonly=True,
        help="Kind of business object the external id designates.",
    )
    external_id = fields.Char(
        string="External ID",
        required=True,
        readonly=True,
        help="Identifier of the object in the external system.",
    )
    res_model = fields.Char(required=True, readonly=True, index=True)
    res_id = fields.Many2oneReference(
        string="Odoo Record ID", model_field="res_model", required=True, readonly=True
    )
    last_sync_at = fields.Datetime(
        readonly=True, help="When a change from the external system was last applied."
    )
    last_message_id = fields.Many2one("fih.message", readonly=True)
    source_version = fields.Integer(
        readonly=True,
        help="Version of the last change applied, as numbered by the external "
        "system; older versions arriving later are skipped.",
    )
    source_updated_at = fields.Datetime(
        readonly=True,
        help="Change time of the last change applied, according to the external "
        "system; older changes arriving later are skipped.",
    )

    _sql_constraints = [
        (
            "external_uniq",
            "unique(backend_id, object_type, external_id)",
            "This external id is already bound to a record for this backend.",
        ),
        (
            "record_uniq",
            "unique(backend_id, object_type, res_model, res_id)",
            "This record already has an external id for this backend.",
        ),
    ]
