import doctest
import importlib

import pytest

MODULES = [
    "bi_datasets",
    "audit_text",
    "bi_encoding",
    "causes",
    "backend_kinds",
    "bi_copy",
    "bi_parquet",
    "bi_warehouse",
    "cxml.converters",
    "cxml.envelope",
    "cxml.invoice",
    "cxml.line_amount",
    "cxml.reading",
    "cxml.response",
    "document_numbers",
    "envelope",
    "log_safe",
    "bounded_read",
    "cii_inbound",
    "einvoice_inbound",
    "en16931",
    "en16931_signs",
    "fingerprint",
    "mapping.rules",
    "mapping.transforms",
    "masking",
    "message_display",
    "money",
    "outbound_formats",
    "prometheus",
    "ordering",
    "remittance",
    "price_precision",
    "progress",
    "read_replica",
    "retry_policy",
    "secret_box",
    "secret_strength",
    "standard_webhooks",
    "supplier_payload",
    "traffic_chart",
    "ubl_inbound",
    "units",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples_hold(name):
    module = importlib.import_module(f"lib.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
