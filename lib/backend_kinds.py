"""Which flows (event types) each kind of backend may use, defined once.

The webhook, UBL and cXML intakes refuse any other event type, and the
processor refuses it again before a flow applies a stored message.
Supplier payments come only from an AP-automation tool; reporting, bank and
tax backends send no documents into the hub.

>>> "payment.upsert" in KIND_EVENT_TYPES["ap_automation"]
True
>>> sorted(kind for kind, flows in KIND_EVENT_TYPES.items()
...        if "payment.upsert" in flows)
['ap_automation']
"""

_DOCUMENT_FLOWS = frozenset(
    {
        "supplier.upsert",
        "purchase_order.upsert",
        "order_confirmation.upsert",
        "ship_notice.upsert",
        "goods_receipt.upsert",
        "invoice.upsert",
    }
)
KIND_EVENT_TYPES = {
    "procurement": _DOCUMENT_FLOWS,
    "ap_automation": frozenset({"supplier.upsert", "invoice.upsert", "payment.upsert"}),
    "bi": frozenset(),
    "bank": frozenset(),
    "tax": frozenset(),
    "other": _DOCUMENT_FLOWS,
}
