"""Procure-to-pay documents as the platforms send them: cXML and UBL.

Deterministic and stdlib-only, for tests, the demo and benchmarks. A line is
``(line number, product code, description, quantity, unit price, tax %)``;
every amount is rounded to cents the way a supplier's system would.

>>> body = cxml_order_request("PO-1", "SUP-000001", [(1, "PAPER", "Paper", 10,
...     4.0, 15)], currency="EUR", shared_secret="s3cr3t")
>>> b'orderID="PO-1"' in body and b"<SharedSecret>s3cr3t</SharedSecret>" in body
True
"""

from xml.sax.saxutils import escape, quoteattr

CXML_DOCTYPE = (
    '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">'
)


def _money(amount, currency):
    return f'<Money currency="{escape(currency)}">{amount:.2f}</Money>'


def _cents(amount):
    return round(amount + 1e-9, 2)


def cxml_envelope(
    payload_id,
    request,
    *,
    shared_secret,
    sender="AN-PARTNER-01",
    timestamp="2026-11-26T09:00:00+00:00",
):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{CXML_DOCTYPE}\n"
        f"<cXML payloadID={quoteattr(payload_id)} timestamp={quoteattr(timestamp)} "
        'xml:lang="en-US"><Header>'
        f'<From><Credential domain="NetworkID"><Identity>{escape(sender)}</Identity>'
        "</Credential></From>"
        '<To><Credential domain="NetworkID"><Identity>AN-HUB-01</Identity>'
        "</Credential></To>"
        f'<Sender><Credential domain="NetworkID"><Identity>{escape(sender)}</Identity>'
        f"<SharedSecret>{escape(shared_secret)}</SharedSecret></Credential>"
        "<UserAgent>Finance Integration Hub simulator</UserAgent></Sender>"
        f'</Header><Request deploymentMode="test">{request}</Request></cXML>'
    ).encode()


def cxml_order_request(
    order_id,
    supplier_id,
    lines,
    *,
    currency,
    shared_secret,
    operation="new",
    version=1,
    cost_center=None,
    payload_id=None,
):
    total = _cents(sum(qty * price for _n, _c, _d, qty, price, _t in lines))
    items = []
    for number, code, description, quantity, price, tax in lines:
        subtotal = _cents(quantity * price)
        distribution = (
            f'<Distribution><Accounting name="CostCenter"><AccountingSegment '
            f'id={quoteattr(cost_center)}><Name xml:lang="en">Cost center</Name>'
            f'<Description xml:lang="en">Cost center</Description>'
            f"</AccountingSegment></Accounting><Charge>{_money(subtotal, currency)}"
            "</Charge></Distribution>"
            if cost_center
            else ""
        )
        items.append(
            f'<ItemOut quantity="{quantity}" lineNumber="{number}">'
            f"<ItemID><SupplierPartID>{escape(code)}</SupplierPartID></ItemID>"
            f"<ItemDetail><UnitPrice>{_money(price, currency)}</UnitPrice>"
            f'<Description xml:lang="en">{escape(description)}</Description>'
            "<UnitOfMeasure>EA</UnitOfMeasure></ItemDetail>"
            f'<SupplierID domain="buyerSupplierID">{escape(supplier_id)}</SupplierID>'
            f"<Tax>{_money(_cents(subtotal * tax / 100), currency)}"
            f'<Description xml:lang="en">VAT {tax} %</Description>'
            f'<TaxDetail purpose="tax" category="vat" percentageRate="{tax}">'
            f"<TaxAmount>{_money(_cents(subtotal * tax / 100), currency)}</TaxAmount>"
            f"</TaxDetail></Tax>{distribution}</ItemOut>"
        )
    request = (
        f'<OrderRequest><OrderRequestHeader orderID={quoteattr(order_id)} '
        f'orderDate="2026-11-26T08:00:00+00:00" type="{operation}" '
        f'orderVersion="{version}" requisitionID="REQ-{escape(order_id)}">'
        f"<Total>{_money(total, currency)}</Total></OrderRequestHeader>"
        f"{''.join(items)}</OrderRequest>"
    )
    return cxml_envelope(
        payload_id or f"{order_id}.v{version}@procurement.example",
        request,
        shared_secret=shared_secret,
        sender="AN-BUYER-01",
    )


def cxml_invoice(
    invoice_number,
    order_id,
    supplier_id,
    lines,
    *,
    currency,
    shared_secret,
    credit_memo=False,
    payload_id=None,
    invoice_date="2026-11-26",
):
    """``lines``: ``(line number, order line number, quantity, unit price, tax %)``."""
    sign = -1 if credit_memo else 1
    items, subtotal_sum, tax_sum = [], 0.0, 0.0
    for number, order_line, quantity, price, tax in lines:
        subtotal = _cents(quantity * price)
        tax_amount = _cents(subtotal * tax / 100)
        subtotal_sum += subtotal
        tax_sum += tax_amount
        items.append(
            f'<InvoiceDetailItem invoiceLineNumber="{number}" quantity="{quantity}">'
            f"<UnitOfMeasure>EA</UnitOfMeasure>"
            f"<UnitPrice>{_money(price, currency)}</UnitPrice>"
            f'<InvoiceDetailItemReference lineNumber="{order_line}">'
            f'<Description xml:lang="en">Line {number}</Description>'
            f"</InvoiceDetailItemReference>"
            f"<SubtotalAmount>{_money(sign * subtotal, currency)}</SubtotalAmount>"
            f"<Tax>{_money(sign * tax_amount, currency)}"
            f'<Description xml:lang="en">VAT {tax} %</Description>'
            f'<TaxDetail purpose="tax" category="vat" percentageRate="{tax}">'
            f"<TaxableAmount>{_money(sign * subtotal, currency)}</TaxableAmount>"
            f"<TaxAmount>{_money(sign * tax_amount, currency)}</TaxAmount>"
            "</TaxDetail></Tax></InvoiceDetailItem>"
        )
    gross = _cents(subtotal_sum + tax_sum)
    purpose = "creditMemo" if credit_memo else "standard"
    request = (
        "<InvoiceDetailRequest><InvoiceDetailRequestHeader "
        f'invoiceID={quoteattr(invoice_number)} purpose="{purpose}" operation="new" '
        f'invoiceDate="{invoice_date}T09:00:00+00:00">'
        '<InvoiceDetailHeaderIndicator/><InvoiceDetailLineIndicator isTaxInLine="yes"/>'
        f'<InvoicePartner><Contact role="from" addressID={quoteattr(supplier_id)}>'
        '<Name xml:lang="en">Supplier</Name></Contact></InvoicePartner>'
        '<PaymentTerm payInNumberOfDays="30"/></InvoiceDetailRequestHeader>'
        "<InvoiceDetailOrder><InvoiceDetailOrderInfo>"
        f"<OrderReference orderID={quoteattr(order_id)}>"
        f'<DocumentReference payloadID="{escape(order_id)}@procurement.example"/>'
        f"</OrderReference></InvoiceDetailOrderInfo>{''.join(items)}"
        "</InvoiceDetailOrder><InvoiceDetailSummary>"
        f"<SubtotalAmount>{_money(sign * _cents(subtotal_sum), currency)}"
        "</SubtotalAmount>"
        f"<Tax>{_money(sign * _cents(tax_sum), currency)}"
        '<Description xml:lang="en">Total VAT</Description></Tax>'
        f"<GrossAmount>{_money(sign * gross, currency)}</GrossAmount>"
        f"<NetAmount>{_money(sign * gross, currency)}</NetAmount>"
        f"<DueAmount>{_money(sign * gross, currency)}</DueAmount>"
        "</InvoiceDetailSummary></InvoiceDetailRequest>"
    )
    return cxml_envelope(
        payload_id or f"{invoice_number}@ap.example",
        request,
        shared_secret=shared_secret,
        sender="AN-SUPPLIER-01",
    )
