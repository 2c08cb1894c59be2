"""cXML fulfilment and payment documents as suppliers and payers send them.

Deterministic and stdlib-only, for tests and the demo, following the cXML
Fulfill DTD (1.2.063): a supplier's ``ConfirmationRequest`` and a payer's
``PaymentRemittanceRequest``.

>>> body = cxml_confirmation("PO-1", [(1, 10, [("accept", 10, "2026-12-03")])],
...     shared_secret="s3cr3t")
>>> b'type="accept"' in body and b'deliveryDate="2026-12-03T12:00:00+00:00"' in body
True
"""

from xml.sax.saxutils import escape, quoteattr

FULFILL_DOCTYPE = (
    '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/Fulfill.dtd">'
)
NOTICE_DATE = "2026-11-27T10:00:00+00:00"


def _moment(day):
    """A calendar date as a cXML date-time (noon UTC keeps the date anywhere)."""
    return f"{day}T12:00:00+00:00"


def _comments(text):
    return f'<Comments xml:lang="en">{escape(text)}</Comments>' if text else ""


def fulfill_envelope(
    payload_id, request, *, shared_secret, sender, to="AN-HUB-01", timestamp=None
):
    """A cXML request from ``sender`` to ``to`` with the Fulfill DOCTYPE."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{FULFILL_DOCTYPE}\n"
        f"<cXML payloadID={quoteattr(payload_id)} "
        f'timestamp={quoteattr(timestamp or NOTICE_DATE)} xml:lang="en-US">'
        f'<Header><From><Credential domain="NetworkID"><Identity>{escape(sender)}'
        "</Identity></Credential></From>"
        f'<To><Credential domain="NetworkID"><Identity>{escape(to)}</Identity>'
        "</Credential></To>"
        f'<Sender><Credential domain="NetworkID"><Identity>{escape(sender)}'
        f"</Identity><SharedSecret>{escape(shared_secret)}</SharedSecret>"
        "</Credential><UserAgent>Finance Integration Hub simulator</UserAgent>"
        f'</Sender></Header><Request deploymentMode="test">{request}</Request>'
        "</cXML>"
    ).encode()


def _status(
    kind,
    quantity,
    delivery_date=None,
    unit_price=None,
    comments=None,
    *,
    currency="EUR",
):
    dates = (
        f" deliveryDate={quoteattr(_moment(delivery_date))}" if delivery_date else ""
    )
    price = (
        f'<UnitPrice><Money currency="{escape(currency)}">{unit_price:.2f}</Money>'
        "</UnitPrice>"
        if unit_price is not None
        else ""
    )
    return (
        f'<ConfirmationStatus quantity="{quantity}" type="{escape(kind)}"{dates}>'
        f"<UnitOfMeasure>EA</UnitOfMeasure>{price}{_comments(comments)}"
        "</ConfirmationStatus>"
    )


def cxml_confirmation(
    order_id,
    lines,
    *,
    shared_secret,
    kind=None,
    confirm_id="CONF-1",
    comments=None,
    currency="EUR",
    payload_id=None,
    sender="AN-SUPPLIER-01",
    version=1,
    operation="new",
):
    """A supplier's ``ConfirmationRequest`` for order ``order_id``.

    ``lines``: ``(line number, ordered quantity, parts)``, each part
    ``(status type, quantity[, delivery date[, unit price[, comments]]])``
    with a status type of the DTD (accept, detail, backordered, reject,
    unknown). ``kind`` is the header type: reject without lines, else
    accept when every part is accepted, detail otherwise.
    """
    if kind is None:
        every = {part[0] for _n, _q, parts in lines for part in parts}
        kind = (
            "reject" if not lines else ("accept" if every == {"accept"} else "detail")
        )
    items = "".join(
        f'<ConfirmationItem quantity="{ordered}" lineNumber="{number}">'
        "<UnitOfMeasure>EA</UnitOfMeasure>"
        + "".join(_status(*part, currency=currency) for part in parts)
        + "</ConfirmationItem>"
        for number, ordered, parts in lines
    )
    request = (
        f"<ConfirmationRequest><ConfirmationHeader confirmID={quoteattr(confirm_id)} "
        f'operation="{operation}" type="{kind}" noticeDate="{NOTICE_DATE}" '
        f'version="{version}">{_comments(comments)}</ConfirmationHeader>'
        f"<OrderReference orderID={quoteattr(order_id)}>"
        f'<DocumentReference payloadID="{escape(order_id)}@procurement.example"/>'
        f"</OrderReference>{items}</ConfirmationRequest>"
    )
    return fulfill_envelope(
        payload_id or f"{confirm_id}.v{version}@supplier.example",
        request,
        shared_secret=shared_secret,
        sender=sender,
    )


def _money(tag, amount, currency):
    return f'<{tag}><Money currency="{escape(currency)}">{amount:.2f}</Money></{tag}>'


def cxml_payment_remittance(
    remittance_id,
    payee_id,
    allocations,
    *,
    currency,
    shared_secret,
    payment_date="2026-12-01",
    payload_id=None,
    sender="AN-PAYER-01",
):
    """A payer's ``PaymentRemittanceRequest``; ``allocations``: ``(invoice
    number, amount paid)``, the payee named by its addressID ``payee_id``."""
    details = "".join(
        f'<RemittanceDetail lineNumber="{index}"><PayableInfo><PayableInvoiceInfo>'
        f"<InvoiceIDInfo invoiceID={quoteattr(number)}/></PayableInvoiceInfo>"
        f"</PayableInfo>{_money('NetAmount', amount, currency)}</RemittanceDetail>"
        for index, (number, amount) in enumerate(allocations, 1)
    )
    total = round(sum(amount for _number, amount in allocations) + 1e-9, 2)
    request = (
        "<PaymentRemittanceRequest><PaymentRemittanceRequestHeader "
        f"paymentRemittanceID={quoteattr(remittance_id)} "
        f'paymentDate="{_moment(payment_date)}" '
        f'paymentReferenceNumber="REMIT-{escape(remittance_id)}">'
        '<PaymentMethod type="wire"/>'
        '<PaymentPartner><Contact role="payer"><Name xml:lang="en">Buyer</Name>'
        "</Contact></PaymentPartner>"
        f'<PaymentPartner><Contact role="payee" addressID={quoteattr(payee_id)}>'
        '<Name xml:lang="en">Supplier</Name></Contact></PaymentPartner>'
        "</PaymentRemittanceRequestHeader><PaymentRemittanceSummary>"
        f"{_money('NetAmount', total, currency)}</PaymentRemittanceSummary>"
        f"{details}</PaymentRemittanceRequest>"
    )
    return fulfill_envelope(
        payload_id or f"{remittance_id}@payer.example",
        request,
        shared_secret=shared_secret,
        sender=sender,
    )
