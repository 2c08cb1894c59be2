"""cXML ``PaymentRemittanceRequest`` -> canonical payment.

The payer (the buyer's AP or payment system) tells which invoices a payment
settles; the remittance becomes the same canonical ``payment`` as a JSON
payment event: amount, currency, payment date, reference and one allocation
per invoice paid, by the supplier's invoice number.
"""

from decimal import Decimal

from ..money import money
from . import reading
from .envelope import CXMLError, attribute, child, first_credential
from .order import credential_id
from .reading import Converted


def _payee(header):
    """The payee (the supplier paid) named by its PaymentPartner Contact."""
    for contact in header.iterfind("PaymentPartner/Contact"):
        if contact.get("role") == "payee" and (contact.get("addressID") or "").strip():
            return contact.get("addressID").strip()
    return None


def _invoice_number(detail, what):
    info = child(detail, "PayableInfo", f"what {what} pays (PayableInfo)")
    invoice = info.find("PayableInvoiceInfo")
    if invoice is None:
        raise CXMLError(
            f"{what} pays an order or an agreement, not an invoice; the hub "
            "allocates payments to invoices (PayableInvoiceInfo)"
        )
    for path in ("InvoiceIDInfo", "InvoiceReference"):
        reference = invoice.find(path)
        if reference is not None and (reference.get("invoiceID") or "").strip():
            return reference.get("invoiceID").strip()
    raise CXMLError(
        f"{what} does not give the invoice number (invoiceID of InvoiceIDInfo or "
        "InvoiceReference); the hub finds the bill paid by its number"
    )


def payment_remittance_to_canonical(root):
    """A cXML ``PaymentRemittanceRequest`` as a canonical payment.

    The payment is the summary's NetAmount, paid on paymentDate; each
    RemittanceDetail allocates its NetAmount to the invoice it names by
    number (discounts and adjustments stay open on the bill, for a person
    to settle). The supplier is the payee Contact's addressID, else the
    party the remittance is addressed to (the ``To`` credential, as
    ``<domain>:<identity>``). Refused: details that pay no invoice or
    deduct money (credit memos, negative adjustments), and a summary the
    details do not add up to (both figures named).
    """
    request = reading.request_body(root, "PaymentRemittanceRequest")
    header = child(request, "PaymentRemittanceRequestHeader", "the remittance header")
    remittance_id = attribute(header, "paymentRemittanceID", "the remittance header")
    label = f"the remittance {remittance_id}"
    summary = child(request, "PaymentRemittanceSummary", f"the summary of {label}")
    currency = reading.currency_of(summary, "NetAmount/Money", f"the amount of {label}")
    amount = reading.amount(
        summary, "NetAmount/Money", f"the amount of {label}", currency
    )
    if amount <= 0:
        raise CXMLError(f"the amount of {label} must be positive, not {money(amount)}")
    operation = (header.get("operation") or "new").strip()
    if operation != "new":
        raise CXMLError(
            f"{label} is an {operation!r} of an earlier remittance; a registered "
            "payment is not changed from a remittance: correct it in Odoo"
        )
    allocations, allocated = [], Decimal(0)
    for position, detail in enumerate(request.iterfind("RemittanceDetail"), start=1):
        what = f"line {reading.line_id(detail, 'lineNumber', position)} of {label}"
        number = _invoice_number(detail, what)
        paid = reading.amount(
            detail, "NetAmount/Money", f"the amount paid by {what}", currency
        )
        if paid <= 0:
            raise CXMLError(
                f"{what} deducts {money(-paid)} {currency} from invoice {number}; "
                "the hub registers payments of invoices only: settle credit memos "
                "and deductions in Odoo"
            )
        allocations.append({"invoice_number": number, "amount": float(paid)})
        allocated += paid
    if not allocations:
        raise CXMLError(f"{label} names no invoice (RemittanceDetail)")
    if allocated != amount:
        raise CXMLError(
            f"{label} pays {money(amount)} {currency}, but its invoices add up to "
            f"{money(allocated)} {currency}; correct the remittance and send it again"
        )
    document = {
        "external_id": remittance_id,
        "supplier_external_id": _payee(header)
        or credential_id(first_credential(root, "To")),
        "payment_date": reading.calendar_date(
            header.get("paymentDate"), f"the payment date of {label}"
        ),
        "currency": currency,
        "amount": float(amount),
        "reference": (header.get("paymentReferenceNumber") or "").strip()
        or remittance_id,
        "allocations": allocations,
    }
    reading.set_updated_at(document, root)
    document["extensions"] = {"cxml_payload_id": root.get("payloadID")}
    return Converted("payment", "new", document)
