"""Read the cXML documents procurement networks send to the hub, and answer them.

A cXML request is an envelope (who sends it, to whom, with which shared
secret) around one business document. :func:`parse_envelope` reads the
envelope through ``safe_xml`` (``envelope``); :func:`to_canonical` turns the
business document into the canonical model (``schemas/*.json``), ready for
``canonical.check`` (``converters``):

- ``OrderRequest`` (new, update, delete) -> purchase_order (``order``);
- ``InvoiceDetailRequest`` (invoices, debit and credit memos, line or header
  level) -> invoice (``invoice``);
- ``ShipNoticeRequest`` and ``ReceiptRequest`` -> goods_receipt (``receipt``);
- ``ConfirmationRequest`` -> order_confirmation (``confirmation``);
- ``PaymentRemittanceRequest`` -> payment (``remittance``).

Other document types are refused naming the type; :func:`checked` refuses a
converted document the canonical schema does not accept.

Every refusal is a :class:`CXMLError` with a sentence for the sender and the
cXML status code to answer, which :func:`render_response` turns into the
``Response`` document (``response``). :func:`redact_shared_secret` keeps the
shared secret out of what the hub stores.
"""

from .converters import CONVERTERS, checked, to_canonical
from .envelope import CXMLError, parse_envelope, redact_shared_secret
from .reading import Converted
from .response import STATUS_TEXTS, render_response
