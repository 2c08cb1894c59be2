"""Procure-to-pay documents as the platforms send them: cXML and UBL.

Deterministic and stdlib-only, for tests, the demo and benchmarks. A line is
``(line number, product code, description, quantity, unit price, tax %)``;
every amount is rounded to cents the way a supplier's system would.

cXML documents are marked ``deploymentMode="test"`` unless told otherwise:
the demo connections are test connections, and a connection marked
Production refuses test documents. Pass ``deployment_mode="production"`` for
a production connection (or None to leave the attribute out, which means
production).

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
    deployment_mode="test",
):
    """``request`` in a cXML envelope; ``deployment_mode``: test, production
    or None (no attribute: production).

    >>> b'<Request deploymentMode="production">' in cxml_envelope(
    ...     "1@x", "<ReceiptRequest/>", shared_secret="s",
    ...     deployment_mode="production")
    True
    >>> b"<Request><ReceiptRequest/>" in cxml_envelope(
    ...     "1@x", "<ReceiptRequest/>", shared_secret="s", deployment_mode=None)
    True
    """
    mode = (
        ""
        if deployment_mode is None
        else f" deploymentMode={quoteattr(deployment_mode)}"
    )
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
        f"</Header><Request{mode}>{request}</Request></cXML>"
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
    deployment_mode="test",
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
        deployment_mode=deployment_mode,
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
    deployment_mode="test",
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
        deployment_mode=deployment_mode,
    )


UBL_NS = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:'
    'CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
    'CommonBasicComponents-2"'
)


def _ubl_amount(tag, amount, currency):
    return f'<cbc:{tag} currencyID="{escape(currency)}">{amount:.2f}</cbc:{tag}>'


def _ubl_category(percent, tag="ClassifiedTaxCategory"):
    return (
        f"<cac:{tag}><cbc:ID>S</cbc:ID><cbc:Percent>{percent}</cbc:Percent>"
        f"<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:{tag}>"
    )


def ubl_invoice(
    number,
    order_id,
    supplier_registry,
    lines,
    *,
    currency,
    credit_note=False,
    issue_date="2026-11-26",
):
    """A Peppol BIS Billing 3.0 Invoice (or CreditNote) of a Belgian supplier
    (participant ``0208:<supplier_registry>``); ``lines`` as in
    :func:`cxml_invoice`."""
    root, line_tag, quantity_tag, type_tag, type_code = (
        ("CreditNote", "CreditNoteLine", "CreditedQuantity", "CreditNoteTypeCode", 381)
        if credit_note
        else ("Invoice", "InvoiceLine", "InvoicedQuantity", "InvoiceTypeCode", 380)
    )
    by_rate, items, untaxed = {}, [], 0.0
    for line_id, order_line, quantity, price, tax in lines:
        amount = _cents(quantity * price)
        untaxed += amount
        by_rate[tax] = by_rate.get(tax, 0.0) + amount
        items.append(
            f"<cac:{line_tag}><cbc:ID>{line_id}</cbc:ID>"
            f'<cbc:{quantity_tag} unitCode="EA">{quantity}</cbc:{quantity_tag}>'
            f"{_ubl_amount('LineExtensionAmount', amount, currency)}"
            f"<cac:OrderLineReference><cbc:LineID>{order_line}</cbc:LineID>"
            f"</cac:OrderLineReference><cac:Item><cbc:Name>Line {line_id}</cbc:Name>"
            f"{_ubl_category(tax)}</cac:Item><cac:Price>"
            f"{_ubl_amount('PriceAmount', price, currency)}</cac:Price>"
            f"</cac:{line_tag}>"
        )
    taxes = {rate: _cents(base * rate / 100) for rate, base in by_rate.items()}
    tax_total = _cents(sum(taxes.values()))
    untaxed = _cents(untaxed)
    subtotals = "".join(
        f"<cac:TaxSubtotal>{_ubl_amount('TaxableAmount', by_rate[rate], currency)}"
        f"{_ubl_amount('TaxAmount', taxes[rate], currency)}"
        f"{_ubl_category(rate, 'TaxCategory')}</cac:TaxSubtotal>"
        for rate in sorted(taxes)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2" '
        f"{UBL_NS}>"
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#"
        "urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>"
        "<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>"
        f"<cbc:ID>{escape(number)}</cbc:ID><cbc:IssueDate>{issue_date}</cbc:IssueDate>"
        f"<cbc:{type_tag}>{type_code}</cbc:{type_tag}>"
        f"<cbc:DocumentCurrencyCode>{escape(currency)}</cbc:DocumentCurrencyCode>"
        f"<cac:OrderReference><cbc:ID>{escape(order_id)}</cbc:ID></cac:OrderReference>"
        "<cac:AccountingSupplierParty><cac:Party>"
        f'<cbc:EndpointID schemeID="0208">{escape(supplier_registry)}</cbc:EndpointID>'
        "<cac:PartyLegalEntity><cbc:RegistrationName>Supplier</cbc:RegistrationName>"
        "</cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>"
        "<cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity>"
        "<cbc:RegistrationName>Buyer</cbc:RegistrationName></cac:PartyLegalEntity>"
        "</cac:Party></cac:AccountingCustomerParty>"
        f"<cac:TaxTotal>{_ubl_amount('TaxAmount', tax_total, currency)}{subtotals}"
        "</cac:TaxTotal><cac:LegalMonetaryTotal>"
        f"{_ubl_amount('LineExtensionAmount', untaxed, currency)}"
        f"{_ubl_amount('TaxExclusiveAmount', untaxed, currency)}"
        f"{_ubl_amount('TaxInclusiveAmount', _cents(untaxed + tax_total), currency)}"
        f"{_ubl_amount('PayableAmount', _cents(untaxed + tax_total), currency)}"
        f"</cac:LegalMonetaryTotal>{''.join(items)}</{root}>"
    ).encode()


def cxml_receipt(
    receipt_id,
    order_id,
    lines,
    *,
    shared_secret,
    payload_id=None,
    deployment_mode="test",
):
    """A ``ReceiptRequest``; ``lines``: ``(order line number, quantity)``."""
    items = "".join(
        f'<ReceiptItem receiptLineNumber="{index}" quantity="{quantity}" '
        f'type="received"><ReceiptItemReference lineNumber="{order_line}"/>'
        "</ReceiptItem>"
        for index, (order_line, quantity) in enumerate(lines, 1)
    )
    request = (
        f"<ReceiptRequest><ReceiptRequestHeader receiptID={quoteattr(receipt_id)} "
        'receiptDate="2026-11-26T10:00:00+00:00" operation="new"/><ReceiptOrder>'
        f"<ReceiptOrderInfo><OrderReference orderID={quoteattr(order_id)}>"
        f'<DocumentReference payloadID="{escape(order_id)}@procurement.example"/>'
        f"</OrderReference></ReceiptOrderInfo>{items}</ReceiptOrder></ReceiptRequest>"
    )
    return cxml_envelope(
        payload_id or f"{receipt_id}@procurement.example",
        request,
        shared_secret=shared_secret,
        sender="AN-BUYER-01",
        deployment_mode=deployment_mode,
    )


# -- the same cycle as canonical JSON events ------------------------------------


def order_event(order_id, supplier_id, lines, *, currency, cost_center=None):
    """``lines`` as in :func:`cxml_order_request`."""
    return {
        "id": f"evt-{order_id}-v1",
        "type": "purchase_order.upsert",
        "occurred_at": "2026-11-26T08:00:00Z",
        "data": {
            "external_id": order_id,
            "supplier_external_id": supplier_id,
            "currency": currency,
            "order_date": "2026-11-26",
            "state": "approved",
            "approval": {
                "approver": "buyer@procurement.example",
                "approved_at": "2026-11-26T08:00:00Z",
                "reference": f"REQ-{order_id}",
            },
            "lines": [
                {
                    "line_id": str(number),
                    "product_code": code,
                    "description": description,
                    "quantity": quantity,
                    "uom": "Units",
                    "unit_price": price,
                    "tax_codes": [f"VAT{tax}"],
                    **({"cost_center": cost_center} if cost_center else {}),
                }
                for number, code, description, quantity, price, tax in lines
            ],
        },
    }


def receipt_event(receipt_id, order_id, lines):
    """``lines``: ``(order line number, quantity)``."""
    return {
        "id": f"evt-{receipt_id}",
        "type": "goods_receipt.upsert",
        "occurred_at": "2026-11-26T10:00:00Z",
        "data": {
            "external_id": receipt_id,
            "purchase_order_external_id": order_id,
            "receipt_date": "2026-11-26",
            "kind": "goods",
            "lines": [
                {"po_line_id": str(line), "quantity": quantity}
                for line, quantity in lines
            ],
        },
    }


def invoice_event(invoice_number, order_id, supplier_id, lines, *, currency):
    """``lines`` as in :func:`cxml_invoice`."""
    untaxed = _cents(sum(quantity * price for _n, _o, quantity, price, _t in lines))
    by_rate = {}
    for _n, _o, quantity, price, tax in lines:
        by_rate[tax] = by_rate.get(tax, 0.0) + _cents(quantity * price)
    taxes = {rate: _cents(base * rate / 100) for rate, base in by_rate.items()}
    amount_tax = _cents(sum(taxes.values()))
    return {
        "id": f"evt-{invoice_number}",
        "type": "invoice.upsert",
        "occurred_at": "2026-11-26T11:00:00Z",
        "data": {
            "external_id": f"{supplier_id}/{invoice_number}",
            "document_type": "invoice",
            "supplier_external_id": supplier_id,
            "invoice_number": invoice_number,
            "invoice_date": "2026-11-26",
            "currency": currency,
            "purchase_order_external_id": order_id,
            "lines": [
                {
                    "line_id": str(number),
                    "po_line_id": str(order_line),
                    "description": f"Line {number}",
                    "quantity": quantity,
                    "unit_price": price,
                    "tax_codes": [f"VAT{tax}"],
                }
                for number, order_line, quantity, price, tax in lines
            ],
            "tax_totals": [
                {"tax_code": f"VAT{rate}", "base": by_rate[rate], "amount": amount}
                for rate, amount in sorted(taxes.items())
            ],
            "amount_untaxed": untaxed,
            "amount_tax": amount_tax,
            "amount_total": _cents(untaxed + amount_tax),
        },
    }


def payment_event(payment_id, supplier_id, allocations, *, currency):
    """``allocations``: ``(invoice external id, amount)``."""
    return {
        "id": f"evt-{payment_id}",
        "type": "payment.upsert",
        "occurred_at": "2026-11-27T09:00:00Z",
        "data": {
            "external_id": payment_id,
            "supplier_external_id": supplier_id,
            "payment_date": "2026-11-27",
            "currency": currency,
            "amount": _cents(sum(amount for _ref, amount in allocations)),
            "reference": f"REMIT-{payment_id}",
            "allocations": [
                {"invoice_external_id": ref, "amount": amount}
                for ref, amount in allocations
            ],
        },
    }
