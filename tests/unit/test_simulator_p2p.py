import json

import pytest

from lib import canonical, cxml, safe_xml, standard_webhooks, ubl_inbound
from simulator import SimulatorServer
from simulator.cli import main as cli_main
from simulator.p2p_documents import (
    cxml_invoice,
    cxml_order_request,
    cxml_receipt,
    invoice_event,
    order_event,
    payment_event,
    receipt_event,
    ubl_invoice,
)


@pytest.fixture
def sim():
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def secret():
    return standard_webhooks.generate_secret()


def run_cycle(sim, secret, fmt):
    args = ["p2p", "--url", f"{sim.url}/webhook", "--secret", secret]
    args += ["--format", fmt, "--cxml-url", f"{sim.url}/cxml", "--shared-secret", "s"]
    args += ["--ubl-url", f"{sim.url}/ubl"]
    assert cli_main(args) == 0
    return sim.requests()


def test_the_json_cycle_sends_five_signed_events_in_business_order(sim, secret):
    requests = run_cycle(sim, secret, "json")
    types = [request.json()["type"] for request in requests]
    assert types == [
        "supplier.upsert",
        "purchase_order.upsert",
        "goods_receipt.upsert",
        "invoice.upsert",
        "payment.upsert",
    ]
    for request in requests:
        standard_webhooks.verify([secret], request.headers, request.raw_body)
        event = request.json()
        object_type = event["type"].split(".")[0]
        assert canonical.validate(object_type, event["data"]) == []
    payment = requests[-1].json()["data"]
    assert payment["allocations"] == [
        {"invoice_external_id": "SUP-000001/INV-000001", "amount": 46.0}
    ]


def test_the_payment_goes_to_the_ap_backend_when_one_is_named(sim, secret):
    args = ["p2p", "--url", f"{sim.url}/webhook/procurement", "--secret", secret]
    assert cli_main([*args, "--ap-url", f"{sim.url}/webhook/ap"]) == 0
    paths = [(r.path, r.json()["type"]) for r in sim.requests()]
    assert paths[-1] == ("/webhook/ap", "payment.upsert")
    assert {path for path, _type in paths[:-1]} == {"/webhook/procurement"}


def test_the_cxml_cycle_sends_order_receipt_and_invoice_as_cxml(sim, secret):
    requests = run_cycle(sim, secret, "cxml")
    assert [request.path for request in requests] == [
        "/webhook",
        "/cxml",
        "/cxml",
        "/cxml",
        "/webhook",
    ]
    kinds = [cxml.parse_envelope(r.raw_body).kind for r in requests[1:4]]
    assert kinds == ["OrderRequest", "ReceiptRequest", "InvoiceDetailRequest"]


def test_the_ubl_cycle_sends_a_signed_peppol_invoice(sim, secret):
    requests = run_cycle(sim, secret, "ubl")
    (ubl,) = [request for request in requests if request.path == "/ubl"]
    assert ubl.headers["content-type"] == "application/xml"
    standard_webhooks.verify([secret], ubl.headers, ubl.raw_body)
    invoice = ubl_inbound.invoice_to_canonical(ubl.raw_body)
    assert invoice["external_id"] == "0208:0000000001/invoice/INV-000001"
    assert (
        requests[-1].json()["data"]["allocations"][0]["invoice_external_id"]
        == (invoice["external_id"])
    )


@pytest.mark.parametrize("credit", [False, True])
def test_generated_documents_read_back_as_valid_canonical_documents(credit):
    lines = [(1, "PAPER", "Paper", 10, 4.0, 15), (2, "SVC", "Setup", 1, 99.99, 21)]
    order = cxml.to_canonical(
        cxml.parse_envelope(
            cxml_order_request(
                "PO-9", "SUP-9", lines, currency="EUR", shared_secret="s"
            )
        )
    )
    assert canonical.validate("purchase_order", order.document) == []
    receipt = cxml.to_canonical(
        cxml.parse_envelope(
            cxml_receipt("GR-9", "PO-9", [(1, 4), (2, 1)], shared_secret="s")
        )
    )
    assert [line["quantity"] for line in receipt.document["lines"]] == [4, 1]
    invoice_lines = [(1, 1, 10, 4.0, 15), (2, 2, 1, 99.99, 21)]
    from_cxml = cxml.to_canonical(
        cxml.parse_envelope(
            cxml_invoice(
                "F-9",
                "PO-9",
                "SUP-9",
                invoice_lines,
                currency="EUR",
                shared_secret="s",
                credit_memo=credit,
            )
        )
    ).document
    ubl = ubl_inbound.invoice_to_canonical(
        ubl_invoice(
            "F-9",
            "PO-9",
            "0000000009",
            [(1, "1", 10, 4.0, 15), (2, "2", 1, 99.99, 21)],
            currency="EUR",
            credit_note=credit,
        )
    )
    json_invoice = invoice_event("F-9", "PO-9", "SUP-9", invoice_lines, currency="EUR")
    for document in (from_cxml, ubl, json_invoice["data"]):
        assert canonical.validate("invoice", document) == []
        assert document["amount_total"] == pytest.approx(
            40 * 1.15 + 99.99 * 1.21, abs=0.01
        )
    assert (
        from_cxml["document_type"]
        == ubl["document_type"]
        == ("credit_note" if credit else "invoice")
    )
    for event in (
        order_event("PO-9", "SUP-9", lines, currency="EUR"),
        receipt_event("GR-9", "PO-9", [(1, 4)]),
        payment_event("PAY-9", "SUP-9", [("SUP-9/F-9", 10.0)], currency="EUR"),
    ):
        object_type = event["type"].split(".")[0]
        assert canonical.validate(object_type, event["data"]) == [], json.dumps(event)
    assert safe_xml.parse(ubl_invoice("X", "Y", "1", [], currency="EUR")) is not None


def test_the_p2p_documents_examples_hold():
    import doctest

    from simulator import p2p_documents

    result = doctest.testmod(p2p_documents, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
