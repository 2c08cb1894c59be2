"""Small builders of Peppol UBL documents for the e-invoice tests: the
namespaces, the two parties (the supplier named by its VAT number), a tax
category and an amount."""

NSDECL = (
    'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:'
    'CommonAggregateComponents-2" '
    'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
    'CommonBasicComponents-2"'
)


def parties(name, vat):
    """The supplier ``name`` with VAT number ``vat``, and the buyer."""
    return f"""
<cac:AccountingSupplierParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000091</cbc:EndpointID>
<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>
<cac:PartyTaxScheme><cbc:CompanyID>{vat}</cbc:CompanyID>
<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName>
</cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>
<cac:AccountingCustomerParty><cac:Party>
<cbc:EndpointID schemeID="0088">7300010000002</cbc:EndpointID>
<cac:PartyLegalEntity><cbc:RegistrationName>Buyer</cbc:RegistrationName>
</cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
"""


def category(cat, percent, tag="TaxCategory"):
    return (
        f"<cac:{tag}><cbc:ID>{cat}</cbc:ID><cbc:Percent>{percent}</cbc:Percent>"
        f"<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:{tag}>"
    )


def money(tag, amount, cur):
    return f'<cbc:{tag} currencyID="{cur}">{amount}</cbc:{tag}>'
