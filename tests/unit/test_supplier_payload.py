import pytest

from lib import supplier_payload as sp

BASE = {"external_id": "S1", "name": "Acme"}


def test_normalizes_vat_iban_email_and_codes():
    supplier = sp.normalize(
        {
            **BASE,
            "vat": "be 0477.472.701",
            "email": "AP@Acme.Example",
            "currency": "eur",
            "address": {"country_code": "be"},
            "bank_accounts": [{"iban": "BE71 0961 2345 6769", "bic": "gkcc bebb"}],
        }
    )
    assert supplier["vat"] == "BE0477472701"
    assert supplier["email"] == "ap@acme.example"
    assert supplier["currency"] == "EUR"
    assert supplier["address"]["country_code"] == "BE"
    assert supplier["bank_accounts"][0] == {
        "iban": "BE71096123456769",
        "bic": "GKCCBEBB",
        "holder": "",
    }


@pytest.mark.parametrize(
    "iban,valid",
    [
        ("BE71096123456769", True),
        ("DE89370400440532013000", True),
        ("BE71096123456768", False),
        ("XX00", False),
        ("GB82WEST12345698765432", True),
        # right check digits, but a Belgian IBAN has 16 characters
        ("BE300961234567690", False),
    ],
)
def test_iban_checksum(iban, valid):
    assert sp.iban_is_valid(iban) is valid


def test_every_problem_is_reported_with_its_path():
    with pytest.raises(sp.PayloadError) as info:
        sp.normalize(
            {
                "name": 42,
                "email": "nope",
                "currency": "EURO",
                "address": {"country_code": "Belgium"},
                "bank_accounts": [{"iban": "BE00"}, "x"],
            }
        )
    paths = {error["path"] for error in info.value.errors}
    assert paths == {
        "data.external_id",
        "data.name",
        "data.email",
        "data.currency",
        "data.address.country_code",
        "data.bank_accounts[0].iban",
        "data.bank_accounts[1]",
    }


def test_duplicate_iban_in_one_supplier_is_refused():
    account = {"iban": "BE71096123456769"}
    with pytest.raises(sp.PayloadError, match="same IBAN appears twice"):
        sp.normalize({**BASE, "bank_accounts": [account, account]})


def test_overlong_text_is_refused():
    with pytest.raises(sp.PayloadError, match="longer than 256"):
        sp.normalize({**BASE, "name": "x" * 300})


@pytest.mark.parametrize("data", [None, [], "supplier"])
def test_data_must_be_an_object(data):
    with pytest.raises(sp.PayloadError):
        sp.normalize(data)
