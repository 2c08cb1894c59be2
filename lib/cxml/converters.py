"""Which converter reads which cXML business document."""

from .. import canonical
from .confirmation import confirmation_to_canonical
from .envelope import CXMLError
from .invoice import invoice_detail_to_canonical
from .order import order_request_to_canonical
from .receipt import receipt_to_canonical, ship_notice_to_canonical
from .remittance import payment_remittance_to_canonical

CONVERTERS = {
    "OrderRequest": order_request_to_canonical,
    "InvoiceDetailRequest": invoice_detail_to_canonical,
    "ShipNoticeRequest": ship_notice_to_canonical,
    "ReceiptRequest": receipt_to_canonical,
    "ConfirmationRequest": confirmation_to_canonical,
    "PaymentRemittanceRequest": payment_remittance_to_canonical,
}
# canonical errors quoted in a refusal
MAX_ERRORS = 5


def to_canonical(envelope):
    """Convert the business document of ``envelope`` (see :data:`CONVERTERS`);
    returns a :class:`~lib.cxml.reading.Converted`.

    >>> from types import SimpleNamespace
    >>> to_canonical(SimpleNamespace(kind="QuoteRequest", root=None))
    Traceback (most recent call last):
    ...
    lib.cxml.envelope.CXMLError: the hub cannot process QuoteRequest documents; \
it takes ConfirmationRequest, InvoiceDetailRequest, OrderRequest, \
PaymentRemittanceRequest, ReceiptRequest and ShipNoticeRequest
    """
    converter = CONVERTERS.get(envelope.kind)
    if converter is None:
        known = sorted(CONVERTERS)
        raise CXMLError(
            f"the hub cannot process {envelope.kind} documents; it takes "
            f"{', '.join(known[:-1])} and {known[-1]}"
        )
    return converter(envelope.root)


def checked(converted):
    """``converted`` when its document follows the canonical schema; else a
    :class:`CXMLError` naming what is wrong, so that the sender learns it at
    once instead of the document failing later.

    >>> from .reading import Converted
    >>> checked(Converted("payment", "new", {"external_id": "P-1"}))
    Traceback (most recent call last):
    ...
    lib.cxml.envelope.CXMLError: the document cannot be taken as a payment: \
$.amount is required; $.currency is required; $.payment_date is required
    """
    errors = canonical.validate(converted.object_type, converted.document)
    if errors:
        shown = "; ".join(
            f"{error['path']} {error['reason']}" for error in errors[:MAX_ERRORS]
        )
        more = (
            f" (and {len(errors) - MAX_ERRORS} more)"
            if len(errors) > MAX_ERRORS
            else ""
        )
        kind = converted.object_type.replace("_", " ")
        raise CXMLError(f"the document cannot be taken as a {kind}: {shown}{more}")
    return converted
