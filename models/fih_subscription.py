import logging

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

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
# the Odoo model behind each canonical object, for domain filters
OBJECT_MODELS = {
    "supplier": "res.partner",
    "purchase_order": "purchase.order",
    "goods_receipt": "stock.picking",
    "invoice": "account.move",
    "payment": "account.payment",
    "cost_center": "account.analytic.account",
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
    _inherit = ["mail.thread", "fih.audited.mixin", "fih.company.locked.mixin"]
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
    delivery_mode = fields.Selection(
        [("single", "One event per call"), ("batch", "Several events per call")],
        default="single",
        required=True,
        tracking=True,
        help="Several events per call: one signed POST carries up to the batch "
        'size of events as {"events": [...]}, for receivers that accept '
        "batches (canonical JSON only). Each event keeps its own id, and "
        "never travels with another event of the same record.",
    )
    batch_max_events = fields.Integer(
        string="Events per Call",
        default=50,
        tracking=True,
        help="Most events one batched call carries.",
    )
    payload_timing = fields.Selection(
        [
            ("on_change", "When the change is saved"),
            ("on_delivery", "When the event is sent"),
        ],
        string="Event Content Taken",
        default="on_change",
        required=True,
        tracking=True,
        help="When the change is saved: the event carries the record exactly "
        "as it was saved, at the cost of preparing it while the user saves. "
        "When the event is sent: saving only notes which record changed and "
        "the delivery job prepares the event right after, so saving is as "
        "fast as without the hub; the event then carries the record as it is "
        "at that moment (normally within a second). Order, exactly-once "
        "delivery and signatures are the same either way.",
    )
    domain = fields.Char(
        default="[]",
        tracking=True,
        help="Only records matching this filter are sent, e.g. "
        "[('supplier_rank', '>', 0)].",
    )

    # for the filter's domain editor: the model the filter applies to
    record_model_name = fields.Char(compute="_compute_record_model_name")

    _sql_constraints = [
        (
            "event_uniq",
            "unique(backend_id, event_code, endpoint_path)",
            "This backend already receives this event at this path.",
        ),
        (
            "batch_max_events_positive",
            "CHECK(batch_max_events > 0 AND batch_max_events <= 500)",
            "A batched call carries between 1 and 500 events.",
        ),
    ]

    @api.depends("event_code")
    def _compute_record_model_name(self):
        for subscription in self:
            object_type = EVENTS.get(subscription.event_code, (None,))[0]
            subscription.record_model_name = OBJECT_MODELS.get(object_type)

    @api.depends("event_code")
    def _compute_object_type(self):
        for subscription in self:
            subscription.object_type = EVENTS.get(subscription.event_code, (None,))[0]

    @api.constrains("payload_format", "event_code", "delivery_mode")
    def _check_format(self):
        for subscription in self:
            if (
                subscription.payload_format != "json"
                and subscription.object_type != "purchase_order"
            ):
                raise ValidationError(
                    self.env._("cXML and UBL orders are for purchase order events.")
                )
            if (
                subscription.payload_format != "json"
                and subscription.delivery_mode == "batch"
            ):
                raise ValidationError(
                    self.env._(
                        "Only canonical JSON events can be sent several per call: "
                        "choose One event per call for cXML and UBL orders."
                    )
                )

    @api.constrains("domain", "event_code", "backend_id")
    def _check_domain(self):
        for subscription in self:
            model = OBJECT_MODELS[subscription.object_type]
            try:
                domain = safe_eval(subscription.domain or "[]")
                if not isinstance(domain, list):
                    raise ValueError("a domain is a list")
                if domain:
                    # a field that does not exist, or that the backend's
                    # service user may not read, must fail here, not in a
                    # user's save
                    subscription._as_service_user(model).search_count(domain, limit=1)
            except Exception as exc:  # noqa: BLE001 - any mistake in the filter
                raise ValidationError(
                    self.env._(
                        "The filter is not a valid domain on %(model)s, or it "
                        "names data the backend's service user may not read "
                        "in the backend's company: %(error)s. Correct the "
                        "filter, or leave it empty to send every record.",
                        model=model,
                        error=exc.args[0] if exc.args else exc,
                    )
                ) from exc

    def _as_service_user(self, model):
        """``model`` as the backend's service user in the backend's company
        only, archived records included: a filter sees what the backend's
        flows may send, never another company's data."""
        self.ensure_one()
        backend = self.backend_id
        return (
            self.env[model]
            .with_user(backend.service_user_id)
            .with_context(allowed_company_ids=backend.company_id.ids, active_test=False)
        )

    def _matching(self, records):
        """Records this subscription wants, the filter evaluated as the
        backend's service user in the backend's company: a record, or a
        related record, it may not read does not match. Never raises: the
        acting user's business transaction goes on whatever the filter."""
        self.ensure_one()
        domain = safe_eval(self.domain or "[]")
        if not domain or not records:
            return records
        # the search flushes: done before the savepoint, so that a rollback
        # of the savepoint cannot undo changes the cache holds as saved
        self.env.flush_all()
        try:
            with self.env.cr.savepoint(flush=False):
                found = set(
                    self._as_service_user(records._name)
                    .search([("id", "in", records.ids), *domain])
                    .ids
                )
        except Exception:  # noqa: BLE001 - a filter must not fail the user's save
            _logger.warning(
                "Subscription %s: its filter could not be evaluated by the "
                "backend's service user; no event sent for %s",
                self.id,
                records,
                exc_info=True,
            )
            return records.browse()
        return records.filtered(lambda record: record.id in found)

    @api.model
    @tools.ormcache("event_code")
    def _ids_for_event(self, event_code):
        """Active subscriptions of an event, cached: partners are saved often."""
        return tuple(
            self.sudo()
            .search([("event_code", "=", event_code), ("backend_id.active", "=", True)])
            .ids
        )

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        self.env.registry.clear_cache()  # _ids_for_event
        return subscriptions

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
