"""Which converter reads which cXML business document."""

from .envelope import CXMLError
from .invoice import invoice_detail_to_canonical
from .order import order_request_to_canonical
from .receipt import receipt_to_canonical, ship_notice_to_canonical

CONVERTERS = {
    "OrderRequest": order_request_to_canonical,
    "InvoiceDetailRequest": invoice_detail_to_canonical,
    "ShipNoticeRequest": ship_notice_to_canonical,
    "ReceiptRequest": receipt_to_canonical,
}


def to_canonical(envelope):
    """Convert the business document of ``envelope`` (see :data:`CONVERTERS`);
    returns a :class:`~lib.cxml.reading.Converted`."""
    converter = CONVERTERS.get(envelope.kind)
    if converter is None:
        raise CXMLError(f"the hub does not accept cXML {envelope.kind} documents")
    return converter(envelope.root)
