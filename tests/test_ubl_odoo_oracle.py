"""An independent oracle for the UBL and CII readers: Odoo's own importer.

Every UBL/Peppol and Factur-X/ZUGFeRD (CII) document of the public corpus and
of Odoo's own test files is read twice: by the hub (``lib/ubl_inbound.py``
and ``lib/cii_inbound.py``, the canonical reading) and by Odoo 18's importer
(``account_edi_ubl_cii``, into a
draft vendor bill of the test company). The two readings must agree on the
currency, the untaxed amount, the tax, the total, the tax amount of each
rate, the number of lines and the supplier. Every document where they do
not agree, or that the hub refuses, is in a table below with the rule of the
standard that explains it; a difference not in the table fails the test.

The documents are read in place (never copied into the repository); the
test skips when the importer is not installed (``scripts/test.sh`` installs
it beside the hub, which does not depend on it) or the files are absent.
"""

import contextlib
import logging
import re
from decimal import Decimal
from pathlib import Path

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..lib import cii_inbound, safe_xml
from ..lib.einvoice_inbound import read
from ..lib.en16931 import EN16931Error
from ..lib.ubl_inbound import NS
from .common import BackendMixin

_logger = logging.getLogger(__name__)

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
FOLDERS = (
    CORPUS / "peppol-bis-3",
    *(
        Path(get_module_path(module, display_warning=False) or "/nonexistent")
        / "tests"
        / "test_files"
        for module in ("account_edi_ubl_cii", "l10n_account_edi_ubl_cii_tests")
    ),
)
# Odoo's importer logs the documents it cannot read as errors
IMPORT_LOGGER = "odoo.addons.account.models.account_move"


class _Failures(logging.Handler):
    """The reasons Odoo's importer gives (logged) for a document it cannot
    read."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.reasons = []

    def emit(self, record):
        reason = record.exc_info[1] if record.exc_info else record.getMessage()
        self.reasons.append(f"{type(reason).__name__}: {reason}")


class _Rollback(Exception):
    """Undo one import (partners it created must not serve the next)."""


# Documents the hub refuses, with the rule of the standard that makes the
# refusal right (matched against the hub's reason).
REFUSED = {
    # Odoo's export templates: "___ignore___" stands for values its
    # comparison skips; they are patterns, not documents (every invoice line
    # needs its own identifier, BR-21, and the document a number, BR-02)
    "bis3_out_invoice_negative_unit_price.xml": "two lines numbered ___ignore___",
    "bis3_pay_term.xml": "two lines numbered ___ignore___",
    "bis3_pay_term_discount.xml": "two lines numbered ___ignore___",
    # BR-26: each invoice line shall contain the item net price (BT-146)
    "bis3_out_invoice_no_prices.xml": r"price of line .* is missing",
    # BR-LIN-04 / PEPPOL-EN16931-R120: the line net amount is quantity x
    # net price / base quantity (+ charges - allowances); this template
    # states 1000.00 for a quantity of 0 at a price of 0
    "bis3_out_invoice_quantity_and_or_unit_price_zero.xml": "quantity 0 x price 0",
}
# Differences between the two readings, each explained by the standard.
# ``what``: the figures that differ; ``rule``: why the hub's reading is the
# standard's.
# A line's own charges are bill lines of their own in both readings, its
# allowances a discount percent (BG-27/BG-28, BR-LIN-04)
LINE_ALLOWANCE_LINES = (
    "no discount percent of 2 decimals gives the stated amount of a line with "
    "its own allowance (BG-27, BT-131): the hub books the line at its net "
    "price and the allowance as a negative line of its own, the stated amount "
    "exactly; Odoo's importer infers a discount with all its decimals (such as "
    "11.1333... %), which its bill shows rounded to 2 (same totals)"
)
NAME_ONLY = (
    "the hub finds a supplier by its identifiers (Peppol endpoint, VAT "
    "number BT-31, legal registration BT-30, GLN), never by its name (BT-27 "
    "is not unique); Odoo's importer falls back on the name"
)
EXPLAINED = {
    "Allowance-example.xml": (["lines: hub 8, Odoo 7"], LINE_ALLOWANCE_LINES),
    "bis3_allowance.xml": (["lines: hub 8, Odoo 7"], LINE_ALLOWANCE_LINES),
    "Norwegian-example-1.xml": (["lines: hub 9, Odoo 8"], LINE_ALLOWANCE_LINES),
    "GR-base-example-TaxRepresentative.xml": (
        ["supplier: hub none, Odoo SupplierTradingName Ltd."],
        "the seller states no VAT number of its own (its tax representative's, "
        "BG-11, is not the seller's); " + NAME_ONLY,
    ),
    "vat-category-O.xml": (
        ["supplier: hub none, Odoo The Sellercompany Incorporated"],
        "outside the scope of VAT the seller has no VAT number (BR-O-02); " + NAME_ONLY,
    ),
    "bis3_out_invoice_public_admin_2.xml": (
        ["supplier: hub none, Odoo partner_2"],
        "its PartyTaxScheme is of scheme 9938, not VAT: no VAT number (BT-31) "
        "is stated; " + NAME_ONLY,
    ),
    "facturx_out_invoice_abnormal.xml": (
        [
            "tax: hub 48200.22, Odoo 48222.0",
            "total: hub 316400.22, Odoo 316422.0",
            "taxes: hub {Decimal('21'): Decimal('37400.22'), "
            "Decimal('12'): Decimal('10800.0')}, "
            "Odoo {Decimal('21.0'): Decimal('37422.0'), "
            "Decimal('12.0'): Decimal('10800.0')}",
        ],
        "the document states 37400.22 of tax at 21 % on 178200.00, which is "
        "37422.00 (BR-S-09: the category's tax is its base times its rate); "
        "its own totals agree with the stated tax (BR-CO-14, BR-CO-15). The "
        "hub reads the tax as stated (BT-117, BT-110) and its tax check holds "
        "the bill for review with both figures; Odoo's importer recomputes "
        "the tax from the rate and books another total than the document's",
    ),
    "bis3_out_invoice_rounding.xml": (
        [
            "untaxed: hub 4567.0, Odoo 4600.0",
            "tax: hub 959.07, Odoo 966.0",
            "total: hub 5526.07, Odoo 5566.0",
            "taxes: hub {Decimal('21'): Decimal('959.07')}, "
            "Odoo {Decimal('21.0'): Decimal('966.0')}",
        ],
        "the net price 0.4567 (BT-146) has more decimals than Odoo's product "
        "price precision: Odoo's importer rounds it to 0.46 and books 4600.00 "
        "where the document states 4567.00 (BT-131, BR-LIN-04); the hub keeps "
        "the stated amounts (and holds such a bill for price precision)",
    ),
}
# Documents Odoo's importer cannot read (its reason is in the report).
NO_DECLARATION = (
    "the file has no XML declaration, which XML 1.0 makes optional; Odoo's "
    "importer does not recognise it as XML, the hub reads it"
)
ODOO_CANNOT_READ = {
    "bis3_export_with_changed_taxes.xml": NO_DECLARATION,
    "bis3_out_invoice_tax_exempt.xml": NO_DECLARATION,
}


def _documents():
    for folder in FOLDERS:
        yield from sorted(folder.glob("**/*.xml"))


def _percent(code):
    """The rate in a hub tax code ('VAT25' -> 25, 'VAT0-E' -> 0)."""
    found = re.search(r"(\d+(?:\.\d+)?)", code)
    return Decimal(found.group(1)) if found else Decimal(0)


@tagged("post_install", "-at_install")
class TestUblOdooOracle(BackendMixin, TransactionCase):
    """The hub's UBL reading against Odoo's own importer, document by document."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.importer_installed = bool(
            cls.env["ir.module.module"].search_count(
                [("name", "=", "account_edi_ubl_cii"), ("state", "=", "installed")]
            )
        )
        cls.company = cls.env.company
        cls.backend = cls._setup_backend(code="oracle-ap", kind="ap_automation")
        # Odoo's VAT check of the partners it creates needs a country
        if not cls.company.country_id:
            cls.company.country_id = cls.env.ref("base.be")
        cls.journal = cls.env["account.journal"].search(
            [("type", "=", "purchase"), ("company_id", "=", cls.company.id)], limit=1
        )
        # the documents' currencies, active (Odoo's importer needs them)
        cls.env["res.currency"].with_context(active_test=False).search(
            [("name", "in", ("EUR", "USD", "GBP", "NOK", "AUD", "DKK", "SEK"))]
        ).active = True

    def _purchase_taxes(self, rates):
        """A purchase tax for every rate the documents state, as an AP clerk
        would have set up before receiving them (Odoo's importer finds taxes
        by rate)."""
        Tax = self.env["account.tax"]
        for rate in sorted(rates):
            exists = Tax.search_count(
                [
                    ("type_tax_use", "=", "purchase"),
                    ("amount_type", "=", "percent"),
                    ("amount", "=", float(rate)),
                    ("price_include", "=", False),
                    ("company_id", "=", self.company.id),
                ]
            )
            if not exists:
                Tax.create(
                    {
                        "name": f"{rate}% purchases (oracle)",
                        "amount": float(rate),
                        "amount_type": "percent",
                        "type_tax_use": "purchase",
                        "company_id": self.company.id,
                    }
                )

    def _known_supplier(self, data):
        """The document's supplier as the AP clerk created it before: its
        name and VAT number (TaxScheme VAT) read straight from the XML.
        Odoo's importer finds it (by VAT number or name) instead of creating
        a partner, which it cannot do for every country."""
        root = safe_xml.parse(data)
        if root.tag == cii_inbound.ROOT:
            return self._known_cii_supplier(root)
        party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
        name = party.findtext(
            "cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS
        ) or party.findtext("cac:PartyName/cbc:Name", namespaces=NS)
        vat = next(
            (
                scheme.findtext("cbc:CompanyID", namespaces=NS)
                for scheme in party.iterfind("cac:PartyTaxScheme", NS)
                if scheme.findtext("cac:TaxScheme/cbc:ID", namespaces=NS)
                in ("VAT", "GST")
            ),
            None,
        )
        return self.env["res.partner"].create(
            {"name": name.strip(), "vat": vat, "is_company": True}
        )

    def _known_cii_supplier(self, root):
        """The same for a CII seller: its name and VAT number (tax
        registration of scheme VA)."""
        party = root.find(
            "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/"
            "ram:SellerTradeParty",
            cii_inbound.NS,
        )
        vat = next(
            (
                element.text.strip()
                for element in party.iterfind(
                    "ram:SpecifiedTaxRegistration/ram:ID", cii_inbound.NS
                )
                if element.get("schemeID") == "VA"
            ),
            None,
        )
        return self.env["res.partner"].create(
            {
                "name": party.findtext("ram:Name", namespaces=cii_inbound.NS).strip(),
                "vat": vat,
                "is_company": True,
            }
        )

    def _odoo_reading(self, path, data):
        """Odoo's importer on ``data``: its draft bill's figures."""
        self._known_supplier(data)
        attachment = self.env["ir.attachment"].create({"name": path.name, "raw": data})
        failures = _Failures()
        logger = logging.getLogger(IMPORT_LOGGER)
        logger.addHandler(failures)
        try:
            with mute_logger(IMPORT_LOGGER):
                bill = self.journal.with_context(
                    default_move_type="in_invoice"
                )._create_document_from_attachment(attachment.ids)
        finally:
            logger.removeHandler(failures)
        if failures.reasons:
            return {"failed": failures.reasons[-1]}
        if not bill.invoice_line_ids:
            return {"failed": "no importer took the file"}
        taxes = {}
        for line in bill.line_ids.filtered(lambda aml: aml.display_type == "tax"):
            rate = Decimal(str(line.tax_line_id.amount))
            taxes[rate] = taxes.get(rate, Decimal(0)) + Decimal(
                str(abs(line.amount_currency))
            )
        partner = bill.partner_id.commercial_partner_id
        return {
            "partner": partner,
            "currency": bill.currency_id.name,
            "untaxed": Decimal(str(bill.amount_untaxed)),
            "tax": Decimal(str(bill.amount_tax)),
            "total": Decimal(str(bill.amount_total)),
            "taxes": {rate: amount for rate, amount in taxes.items() if amount},
            "lines": len(
                bill.invoice_line_ids.filtered(
                    lambda aml: aml.display_type == "product"
                )
            ),
            "refund": bill.move_type == "in_refund",
        }

    @staticmethod
    def _hub_reading(document):
        """The hub's canonical reading in the same terms."""
        taxes = {}
        for total in document.get("tax_totals", []):
            rate = _percent(total["tax_code"])
            taxes[rate] = taxes.get(rate, Decimal(0)) + Decimal(str(total["amount"]))
        return {
            "currency": document["currency"],
            "untaxed": Decimal(str(document["amount_untaxed"])),
            "tax": Decimal(str(document["amount_tax"])),
            "total": Decimal(str(document["amount_total"])),
            "taxes": {rate: amount for rate, amount in taxes.items() if amount},
            # Odoo books the document's allowances and charges (BG-20/21) as
            # lines; the hub keeps them apart from the invoice lines (BG-25).
            # A line's own charges (BG-28) are bill lines of their own, and its
            # allowances (BG-27) too when no discount percent books them
            "lines": len(document["lines"])
            + len(document.get("charges", []))
            + len(document.get("allowances", []))
            + sum(
                len(line.get("line_charges", [])) + len(line.get("line_allowances", []))
                for line in document["lines"]
            ),
            "identifiers": document.get("supplier_identifiers", []),
            "refund": document["document_type"] == "credit_note",
        }

    def _differences(self, hub, odoo):
        differences = []
        for key in ("currency", "untaxed", "tax", "total", "taxes", "lines", "refund"):
            if hub[key] != odoo[key]:
                differences.append(f"{key}: hub {hub[key]}, Odoo {odoo[key]}")
        # the supplier: the partner the hub finds by the identifiers it read
        # (Peppol endpoint, VAT, registration, GLN) is the one Odoo found
        found = (
            self.env["fih.invoice.handler"]
            .with_context(fih_supplier_company_id=self.company.id)
            ._supplier_by_identifiers(self.backend, hub["identifiers"])
        )
        if found != odoo["partner"]:
            differences.append(
                f"supplier: hub {found.name or 'none'}, Odoo {odoo['partner'].name}"
            )
        return differences

    def test_every_document_reads_as_odoo_reads_it_or_the_difference_is_explained(
        self,
    ):
        if not self.importer_installed:
            self.skipTest(
                "Odoo's UBL importer (account_edi_ubl_cii) is not installed in "
                "this database; scripts/test.sh installs it beside the hub"
            )
        paths = list(_documents())
        if not paths:
            self.skipTest(f"no UBL documents in {', '.join(map(str, FOLDERS))}")
        readings = {}
        for path in paths:
            data = path.read_bytes()
            try:
                readings[path] = ("read", data, read(data))
            except EN16931Error as exc:
                readings[path] = ("refused", data, str(exc))
        self._purchase_taxes(
            {
                _percent(total["tax_code"])
                for kind, _data, document in readings.values()
                if kind == "read"
                for total in document.get("tax_totals", [])
            }
        )
        report, unexplained = [], []
        for path, (kind, data, reading) in readings.items():
            name = path.name
            if kind == "refused":
                if name in REFUSED and re.search(REFUSED[name], reading):
                    report.append(f"{name}: refused for a standard reason ({reading})")
                else:
                    unexplained.append(f"{name}: the hub refuses it: {reading}")
                continue
            odoo, differences = None, []
            with contextlib.suppress(_Rollback), self.env.cr.savepoint():
                odoo = self._odoo_reading(path, data)
                if "failed" not in odoo:
                    differences = self._differences(self._hub_reading(reading), odoo)
                raise _Rollback
            self.env.invalidate_all()
            if "failed" in odoo:
                # no second reading: the hub's is checked against the
                # document's own totals in tests/unit/test_ubl_corpus.py
                if name not in ODOO_CANNOT_READ:
                    unexplained.append(
                        f"{name}: Odoo's importer fails: {odoo['failed']}"
                    )
                else:
                    report.append(
                        f"{name}: read by the hub; Odoo's importer fails "
                        f"({odoo['failed']}): {ODOO_CANNOT_READ[name]}"
                    )
            elif not differences:
                report.append(f"{name}: read faithfully (same as Odoo)")
            elif name in EXPLAINED and set(differences) == set(EXPLAINED[name][0]):
                report.append(
                    f"{name}: different, explained: {EXPLAINED[name][1]} "
                    f"({'; '.join(differences)})"
                )
            else:
                unexplained.append(f"{name}: {'; '.join(differences)}")
        _logger.info("UBL oracle, per document:\n%s", "\n".join(report + unexplained))
        self.assertFalse(
            unexplained,
            "the hub and Odoo's importer read these documents differently, "
            "without an explanation:\n" + "\n".join(unexplained),
        )
        self.assertGreater(len(report), 20)
