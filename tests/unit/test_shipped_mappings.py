"""The mappings shipped in mappings/, their samples and the simulator shapes."""

import json
from pathlib import Path

import pytest

from lib import canonical, supplier_payload
from lib import mapping_engine as me
from simulator import (
    ap_invoice,
    ap_supplier,
    procurement_purchase_order,
    procurement_supplier,
    supplier_event,
    supplier_update_event,
)

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SAMPLES = MAPPINGS / "samples"
IDENTITY = {f"canonical_{name}_identity": name for name in canonical.OBJECT_TYPES}
EXTERNAL = {
    "procurement_platform_v2_supplier": "supplier",
    "procurement_platform_v2_purchase_order": "purchase_order",
    "ap_tool_v1_supplier": "supplier",
    "ap_tool_v1_invoice": "invoice",
}
ALL = {**IDENTITY, **EXTERNAL}
TABLES = json.loads((SAMPLES / "lookup_tables.json").read_text())
LOOKUP = me.dict_lookup(TABLES)
# what the generators must give, sample file by sample file
GENERATED = {
    "procurement_platform_v2_supplier": lambda: procurement_supplier(1),
    "procurement_platform_v2_purchase_order": lambda: procurement_purchase_order(1, 1),
    "ap_tool_v1_supplier": lambda: ap_supplier(1),
    "ap_tool_v1_invoice": lambda: ap_invoice(1, 1, po_n=1),
}


def load(name):
    return json.loads((MAPPINGS / f"{name}.json").read_text())


def rules(name):
    return [me.Rule.from_dict(rule) for rule in load(name)["rules"]]


def run(name, document):
    return me.apply(rules(name), document, LOOKUP)


def sample(name):
    return json.loads((SAMPLES / f"{name}.json").read_text())


def test_the_shipped_files_are_the_expected_ones():
    assert {path.stem for path in MAPPINGS.glob("*.json")} == set(ALL)
    assert {path.stem for path in SAMPLES.glob("*.json")} == set(ALL) | {
        "lookup_tables"
    }


@pytest.mark.parametrize("name", sorted(ALL))
def test_mapping_file_is_complete_and_valid(name):
    mapping = load(name)
    assert list(mapping) == [
        "name",
        "object_type",
        "direction",
        "api_version",
        "description",
        "rules",
    ]
    assert mapping["object_type"] == ALL[name]
    assert mapping["direction"] == "inbound"
    assert mapping["name"] and mapping["description"] and mapping["api_version"]
    keys = ["target", "source", "transform", "params", "default", "required"]
    assert all(list(rule) == [*keys, "sequence"] for rule in mapping["rules"])
    assert me.validate_rules(rules(name)) == []


@pytest.mark.parametrize("name", sorted(ALL))
def test_sample_maps_to_a_valid_canonical_document(name):
    document = run(name, sample(name))
    assert canonical.validate(ALL[name], document) == []


@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_identity_mapping_covers_the_schema_and_reproduces_the_example(name):
    object_type = IDENTITY[name]
    mapping_rules = rules(name)
    assert [rule.target for rule in mapping_rules] == canonical.field_paths(object_type)
    assert all(rule.source == rule.target for rule in mapping_rules)
    assert {rule.target for rule in mapping_rules if rule.required} == set(
        canonical.field_paths(object_type, required_only=True)
    )
    assert sample(name) == canonical.example(object_type)
    assert run(name, canonical.example(object_type)) == canonical.example(object_type)


@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_identity_mapping_reports_missing_required_fields(name):
    with pytest.raises(me.MappingError) as info:
        run(name, {})
    assert {error["path"] for error in info.value.errors} == {
        path
        for path in canonical.field_paths(IDENTITY[name], required_only=True)
        if "[]" not in path
    }


@pytest.mark.parametrize(
    "name,object_type",
    [
        ("procurement_platform_v2_supplier", "supplier"),
        ("procurement_platform_v2_purchase_order", "purchase_order"),
        ("ap_tool_v1_invoice", "invoice"),
    ],
)
def test_documented_examples_are_what_the_samples_give(name, object_type):
    assert run(name, sample(name)) == canonical.example(object_type)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_samples_are_what_the_simulator_generates(name):
    assert GENERATED[name]() == sample(name)


def test_lookup_tables_hold_every_table_the_mappings_use():
    used = {
        rule.params["table"]
        for name in ALL
        for rule in rules(name)
        if "table" in rule.params
    }
    assert (
        used
        == set(TABLES)
        == {
            "payment_terms",
            "order_states",
            "cost_centers",
            "document_types",
        }
    )


# -- the external shapes, beyond the samples -------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 97, 12_345, 9_999_999])
@pytest.mark.parametrize("version", [1, 2, 5])
def test_platform_supplier_is_the_supplier_of_the_canonical_event(n, version):
    document = run("procurement_platform_v2_supplier", procurement_supplier(n, version))
    assert canonical.validate("supplier", document) == []
    assert document["source_version"] == version
    expected = supplier_update_event(n, version)["data"]
    assert supplier_payload.normalize(document) == supplier_payload.normalize(expected)


@pytest.mark.parametrize("n", [1, 42, 9_999_999])
def test_ap_supplier_is_the_supplier_of_the_canonical_event(n):
    document = run("ap_tool_v1_supplier", ap_supplier(n))
    assert canonical.validate("supplier", document) == []
    expected = supplier_event(n)["data"]
    assert supplier_payload.normalize(document) == supplier_payload.normalize(expected)


@pytest.mark.parametrize("n", range(1, 13))
def test_generated_orders_and_invoices_are_consistent(n):
    order = run(
        "procurement_platform_v2_purchase_order", procurement_purchase_order(n, 7)
    )
    invoice = run("ap_tool_v1_invoice", ap_invoice(n, 7, po_n=n))
    assert canonical.validate("purchase_order", order) == []
    assert canonical.validate("invoice", invoice) == []
    assert invoice["purchase_order_external_id"] == order["external_id"]
    assert invoice["supplier_external_id"] == order["supplier_external_id"]
    ordered = {line["line_id"]: line for line in order["lines"]}
    for line in invoice["lines"]:
        po_line = ordered[line["po_line_id"]]
        for field in ("product_code", "quantity", "uom", "unit_price", "tax_codes"):
            assert line[field] == po_line[field]
    _assert_totals_add_up(invoice)


def _assert_totals_add_up(invoice):
    cents = [
        round(invoice[name] * 100)
        for name in ("amount_untaxed", "amount_tax", "amount_total")
    ]
    assert cents[0] + cents[1] == cents[2]
    assert sum(round(t["amount"] * 100) for t in invoice["tax_totals"]) == cents[1]
    assert sum(round(t["base"] * 100) for t in invoice["tax_totals"]) == cents[0]
    lines = sum(
        round(line["quantity"] * line["unit_price"] * 100) for line in invoice["lines"]
    )
    assert lines == cents[0]


@pytest.mark.parametrize("n", [1, 2, 3, 365, 366, 9_999_999])
def test_invoices_without_order_and_credit_notes(n):
    invoice = run("ap_tool_v1_invoice", ap_invoice(n, 1))
    assert canonical.validate("invoice", invoice) == []
    assert "purchase_order_external_id" not in invoice
    assert all("po_line_id" not in line for line in invoice["lines"])
    credit_note = run("ap_tool_v1_invoice", ap_invoice(n, 1, credit_note=True))
    assert canonical.validate("invoice", credit_note) == []
    assert credit_note["document_type"] == "credit_note"
    assert credit_note["external_id"] != invoice["external_id"]
    assert credit_note["extensions"] == {
        "original_invoice_number": invoice["invoice_number"]
    }
    _assert_totals_add_up(credit_note)


def test_platform_order_shape_mapped_field_by_field():
    order = run(
        "procurement_platform_v2_purchase_order", procurement_purchase_order(3, 2)
    )
    assert order["approval"] == {
        "approver": "m.peeters@acme.example",
        "approved_at": "2026-11-28T08:15:00Z",
        "reference": "REQ-000003",
    }
    (line,) = order["lines"]
    assert line == {
        "line_id": "1",
        "product_code": "SRV-CONSULT",
        "description": "Finance process consulting",
        "quantity": 9.0,
        "uom": "Days",
        "unit_price": 1234.5,
        "tax_codes": ["VAT21"],
        "cost_center": "FIN-100",
        "requested_date": "2026-12-05",
    }
    assert (order["company_code"], order["state"]) == ("BE01", "approved")


def test_bad_platform_values_are_reported_with_their_source_paths():
    order = procurement_purchase_order(1, 1)
    order["order-lines"][1]["quantity"] = "12,5x"
    order["order-lines"][0]["account"]["code"] = "CC-999"
    order["status"] = "draft"
    del order["order-lines"][0]["description"]
    with pytest.raises(me.MappingError) as info:
        run("procurement_platform_v2_purchase_order", order)
    assert info.value.errors == [
        {
            "path": "status",
            "reason": "no entry for 'draft' in cross-reference table 'order_states'",
        },
        {
            "path": "order-lines[0].description",
            "reason": "is required (for lines[].description)",
        },
        {
            "path": "order-lines[1].quantity",
            "reason": "'12,5x' is not a number with ',' as decimal separator and "
            "'.' as thousands separator",
        },
        {
            "path": "order-lines[0].account.code",
            "reason": "no entry for 'CC-999' in cross-reference table 'cost_centers'",
        },
    ]


def test_mapped_but_invalid_documents_are_caught_by_the_schema():
    supplier = procurement_supplier(1)
    supplier["bank-accounts"][0]["iban"] = "BE00 0000 0000 0000"
    supplier["primary-address"]["country"]["code"] = "Belgium"
    document = run("procurement_platform_v2_supplier", supplier)
    assert canonical.validate("supplier", document) == [
        {
            "path": "$.address.country_code",
            "reason": "must be an ISO 3166 alpha-2 code such as 'BE'",
        },
        {
            "path": "$.bank_accounts[0].iban",
            "reason": "'BE00000000000000' is not a valid IBAN",
        },
    ]
