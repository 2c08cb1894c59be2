"""Loopback simulator of the external systems around finance_integration_hub.

Standalone (not loaded by Odoo; the standard library only, and the hub's own
``lib.standard_webhooks`` for signing): a receiver that records and
misbehaves on demand, a Standard Webhooks sender and deterministic data.
"""

from .bi_warehouse import BiWarehouse
from .control import SimulatorClient, SimulatorError
from .generators import (
    ap_invoice,
    ap_supplier,
    belgian_enterprise_number,
    belgian_iban,
    procurement_purchase_order,
    procurement_supplier,
    supplier_event,
    supplier_events,
    supplier_update_event,
)
from .loopback import NonLoopbackError, ensure_loopback_host, ensure_loopback_url
from .sender import WebhookSender, batch_body, new_webhook_id, shuffled
from .pull_source import PullSource
from .records import FaultRule, RecordedRequest
from .server import SimulatorServer

__all__ = [
    "BiWarehouse",
    "FaultRule",
    "NonLoopbackError",
    "PullSource",
    "RecordedRequest",
    "SimulatorClient",
    "SimulatorError",
    "SimulatorServer",
    "WebhookSender",
    "ap_invoice",
    "ap_supplier",
    "batch_body",
    "belgian_enterprise_number",
    "belgian_iban",
    "ensure_loopback_host",
    "ensure_loopback_url",
    "new_webhook_id",
    "procurement_purchase_order",
    "procurement_supplier",
    "shuffled",
    "supplier_event",
    "supplier_events",
    "supplier_update_event",
]
