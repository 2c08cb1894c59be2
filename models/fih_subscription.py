from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

# event code -> (canonical object, label)
EVENTS = {
    "supplier.created": ("supplier", "Supplier created"),
    "supplier.changed": ("supplier", "Supplier changed"),
    "purchase_order.confirmed": ("purchase_order", "Purchase order confirmed"),
    "purchase_order.changed": ("purchase_order", "Purchase order changed"),
    "purchase_order.cancelled": ("purchase_order", "Purchase order cancelled"),
    "goods_receipt.validated": ("goods_receipt", "Receipt validated"),
    "invoice.posted": ("invoice", "Vendor bill posted"),
    "invoice.cancelled": ("invoice", "Vendor bill cancelled"),
    "invoice.reversed": ("invoice", "Vendor bill reversed"),
    "payment.posted": ("payment", "Payment posted"),
    "cost_center.changed": ("cost_center", "Cost center changed"),
}
FORMATS = [
    ("json", "Canonical JSON"),
    ("cxml_order_request", "cXML OrderRequest (purchase orders)"),
    ("ubl_order", "UBL 2.1 Order (purchase orders)"),
]


class FihSubscription(models.Model):
    """Which business events a backend receives, and in which format."""

    _name = "fih.subscription"
    _description = "Outbound Subscription"
    _inherit = ["mail.thread", "fih.audited.mixin"]
    _order = "backend_id, event_code"

    backend_id = fields.Many2one(
        "fih.backend", required=True, ondelete="cascade", index=True, tracking=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    active = fields.Boolean(default=True, tracking=True)
    event_code = fields.Selection(
        [(code, label) for code, (_object, label) in EVENTS.items()],
        string="Event",
        required=True,
        tracking=True,
    )
    object_type = fields.Char(compute="_compute_object_type", store=True)
    endpoint_path = fields.Char(
        required=True,
        default="/",
        tracking=True,
        help="Path added to the backend's base URL, e.g. /api/suppliers.",
    )
    payload_format = fields.Selection(
        FORMATS, string="Format", required=True, default="json", tracking=True
    )
    domain = fields.Char(
        default="[]",
        tracking=True,
        help="Only records matching this filter are sent, e.g. "
        "[('supplier_rank', '>', 0)].",
    )

    _sql_constraints = [
        (
            "event_uniq",
            "unique(backend_id, event_code, endpoint_path)",
            "This backend already receives this event at this path.",
        ),
    ]

    @api.depends("event_code")
    def _compute_object_type(self):
        for subscription in self:
            subscription.object_type = EVENTS.get(subscription.event_code, (None,))[0]

    @api.constrains("payload_format", "event_code")
    def _check_format(self):
        for subscription in self:
            if (
                subscription.payload_format != "json"
                and subscription.object_type != "purchase_order"
            ):
                raise ValidationError(
                    self.env._("cXML and UBL orders are for purchase order events.")
                )

    @api.constrains("domain")
    def _check_domain(self):
        for subscription in self:
            try:
                domain = safe_eval(subscription.domain or "[]")
                assert isinstance(domain, list)
            except Exception as exc:  # noqa: BLE001 - any mistake in the filter
                raise ValidationError(
                    self.env._("The filter is not a valid domain: %s", exc)
                ) from exc

    def _matching(self, records):
        self.ensure_one()
        return records.filtered_domain(safe_eval(self.domain or "[]"))
