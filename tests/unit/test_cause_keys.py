from lib import causes  # noqa: I001


def test_schema_errors_on_different_lines_of_one_field_are_one_cause():
    first = causes.group_key(7, "schema.invalid", {"path": "$.lines[0].quantity"})
    other = causes.group_key(7, "schema.invalid", {"path": "$.lines[3].quantity"})
    assert first == other
    assert first == "7|schema.invalid|$.lines[].quantity"


def test_schema_errors_of_different_fields_stay_apart():
    quantity = causes.group_key(7, "schema.invalid", {"path": "$.lines[0].quantity"})
    price = causes.group_key(7, "schema.invalid", {"path": "$.lines[0].price"})
    assert quantity != price
