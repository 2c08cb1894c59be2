"""Remittances decided as a whole: sums per document, write-off policy,
credit notes, payments on account (lib/remittance.py), and the canonical
payment's allocations (lib/canonical.py)."""

from decimal import Decimal

import pytest

from lib import canonical
from lib.remittance import (
    BILL,
    CREDIT_NOTE,
    FULL,
    PARTIAL,
    WRITE_OFF,
    Allocation,
    Document,
    Refused,
    WriteOffPolicy,
    allocation_kind,
    plan,
)

EUR_POLICY = WriteOffPolicy(max_amount="0.05", max_percent="1")


def bill(key, open_amount, native=True):
    return Document(key, f"BILL/{key}", BILL, open_amount, native=native)


def credit(key, open_amount, native=True):
    return Document(key, f"RBILL/{key}", CREDIT_NOTE, open_amount, native=native)


def refusal(*args, **kwargs):
    with pytest.raises(Refused) as caught:
        plan(*args, **kwargs)
    return caught.value


# -- one document named twice ----------------------------------------------------


def test_two_allocations_to_one_bill_are_added_up_before_the_check():
    doc = bill(1, "46.00")
    refused = refusal(
        "60.00", [Allocation(doc, "30.00", "INV-1"), Allocation(doc, "30.00", "F-1")]
    )
    assert refused.kind == "over_allocated"
    assert "60.00 EUR to BILL/1 (INV-1: 30.00, F-1: 30.00)" in str(refused)
    assert "only 46.00 EUR left to pay" in str(refused)


def test_two_allocations_within_the_open_amount_make_one_settlement():
    doc = bill(1, "46.00")
    result = plan("46.00", [Allocation(doc, "30.00"), Allocation(doc, "16.00")])
    assert len(result.settlements) == 1
    settlement = result.settlements[0]
    assert (settlement.outcome, settlement.allocated, settlement.cash) == (
        FULL,
        Decimal("46.00"),
        Decimal("46.00"),
    )


# -- small differences -------------------------------------------------------------


@pytest.mark.parametrize(
    "paid,outcome,write_off,remaining",
    [
        ("45.98", WRITE_OFF, "0.02", "0"),  # short within the policy
        ("46.02", WRITE_OFF, "-0.02", "0"),  # over within the policy
        ("45.95", WRITE_OFF, "0.05", "0"),  # the limit itself
        ("45.94", PARTIAL, "0", "0.06"),  # beyond it: the rest stays open
        ("41.00", PARTIAL, "0", "5.00"),
    ],
)
def test_a_difference_within_the_policy_is_written_off_never_left_open(
    paid, outcome, write_off, remaining
):
    result = plan(paid, [Allocation(bill(1, "46.00"), paid)], EUR_POLICY)
    settlement = result.settlements[0]
    assert settlement.outcome == outcome
    assert settlement.write_off == Decimal(write_off)
    assert settlement.remaining == Decimal(remaining)
    assert settlement.cash == Decimal(paid)


def test_the_percentage_limit_holds_with_the_amount_limit():
    # 1 % of 3.00 is 0.03: a 0.04 difference is within 0.05 but not 1 %
    result = plan("2.96", [Allocation(bill(1, "3.00"), "2.96")], EUR_POLICY)
    assert result.settlements[0].outcome == PARTIAL
    over = refusal("3.04", [Allocation(bill(1, "3.00"), "3.04")], EUR_POLICY)
    assert over.kind == "over_allocated"
    assert "up to 0.05 EUR and 1 % of the open amount is written off" in str(over)


def test_without_a_policy_no_cent_is_written_off():
    result = plan("45.99", [Allocation(bill(1, "46.00"), "45.99")])
    assert result.settlements[0].outcome == PARTIAL
    assert result.settlements[0].remaining == Decimal("0.01")
    assert refusal("46.01", [Allocation(bill(1, "46.00"), "46.01")]).kind == (
        "over_allocated"
    )


def test_a_zero_percentage_limit_means_only_the_amount_limit():
    policy = WriteOffPolicy(max_amount="5.00")
    assert policy.accepts(Decimal("5.00"), Decimal("10.00"))
    assert not policy.accepts(Decimal("5.01"), Decimal("1000.00"))


def test_negative_limits_are_refused():
    with pytest.raises(ValueError):
        WriteOffPolicy(max_amount="-1")


# -- currencies and precision ------------------------------------------------------


def test_a_converted_open_amount_is_checked_the_same_way():
    foreign = bill(1, "143.75", native=False)  # 115.00 USD at 1.25
    assert refusal("1000.00", [Allocation(foreign, "1000.00")]).kind == (
        "over_allocated"
    )
    result = plan("100.00", [Allocation(foreign, "100.00")])
    assert result.settlements[0].remaining == Decimal("43.75")
    # a bill in another currency is always paid on its own
    assert result.bills_paid_alone == list(result.settlements)
    assert not result.bills_paid_in_full
    full = plan("143.75", [Allocation(foreign, "143.75")])
    assert full.bills_paid_alone[0].outcome == FULL


def test_amounts_with_more_decimals_than_the_currency_are_refused():
    refused = refusal("10.005", [Allocation(bill(1, "46.00"), "10.005")])
    assert refused.kind == "precision"
    assert plan("10", [Allocation(bill(1, "46.00"), "10.000")], places=0)
    with pytest.raises(Refused):
        plan("10.5", [], places=0)


# -- credit notes --------------------------------------------------------------------


def test_credit_notes_are_netted_with_bills_settled_in_full_first():
    partial = bill("p", "100.00")
    full = bill("f", "46.00")
    note = credit("c", "9.20")
    result = plan(
        "56.80",
        [
            Allocation(partial, "20.00"),
            Allocation(full, "46.00"),
            Allocation(note, "9.20"),
        ],
    )
    assert [(n.bill.key, n.amount) for n in result.nettings] == [("f", Decimal("9.20"))]
    by_key = {s.document.key: s for s in result.settlements}
    assert (by_key["f"].credit, by_key["f"].cash) == (Decimal("9.20"), Decimal("36.80"))
    assert (by_key["p"].credit, by_key["p"].cash) == (Decimal("0"), Decimal("20.00"))
    assert [s.document.key for s in result.bills_paid_in_full] == ["f"]
    assert [s.document.key for s in result.bills_paid_alone] == ["p"]
    assert result.on_account == 0


def test_a_credit_note_spreads_over_several_bills_paid_in_full():
    first, second, note = bill(1, "10.00"), bill(2, "30.00"), credit("c", "25.00")
    result = plan(
        "15.00",
        [
            Allocation(first, "10.00"),
            Allocation(second, "30.00"),
            Allocation(note, "25"),
        ],
    )
    assert [(n.bill.key, n.amount) for n in result.nettings] == [
        (1, Decimal("10.00")),
        (2, Decimal("15.00")),
    ]
    assert [(s.document.key, s.cash) for s in result.bills_paid_in_full] == [
        (2, Decimal("15.00"))
    ]


def test_a_credit_note_is_not_split_over_bills_paid_in_part():
    # Odoo sets off as much as both documents have open: a credit note can
    # end in a partly paid bill, but not be split over two of them
    first, second = bill(1, "100.00"), bill(2, "100.00")
    refused = refusal(
        "20.00",
        [
            Allocation(first, "30.00"),
            Allocation(second, "30.00"),
            Allocation(credit("c", "40.00"), "40"),
        ],
    )
    assert refused.kind == "credit_note_not_netted"
    result = plan(
        "40.00",
        [
            Allocation(first, "30.00"),
            Allocation(second, "30.00"),
            Allocation(credit("c", "20.00"), "20"),
        ],
    )
    settlement = result.settlements[0]
    assert (settlement.credit, settlement.cash, settlement.remaining) == (
        Decimal("20"),
        Decimal("10.00"),
        Decimal("70.00"),
    )


def test_a_credit_note_is_deducted_in_full_or_not_at_all():
    refused = refusal(
        "40.00",
        [Allocation(bill(1, "46.00"), "46.00"), Allocation(credit("c", "9.20"), "6")],
    )
    assert refused.kind == "credit_note_in_part"
    assert "deducted in full" in str(refused)


def test_credit_notes_beyond_the_bills_are_refused():
    refused = refusal(
        "5.00",
        [Allocation(bill(1, "10.00"), "10.00"), Allocation(credit("c", "20.00"), "20")],
    )
    assert refused.kind == "credit_notes_exceed_bills"
    assert "deducts 20.00 EUR of credit notes from 10.00 EUR of bills" in str(refused)


def test_a_credit_note_in_another_currency_is_refused():
    refused = refusal(
        "36.80",
        [
            Allocation(bill(1, "46.00"), "46.00"),
            Allocation(credit("c", "9.20", native=False), "9.20"),
        ],
    )
    assert refused.kind == "credit_note_currency"


# -- on account ------------------------------------------------------------------------


def test_what_no_document_takes_is_paid_on_account():
    assert plan("250.00", []).on_account == Decimal("250.00")
    result = plan("60.00", [Allocation(bill(1, "46.00"), "46.00")])
    assert result.on_account == Decimal("14.00")
    assert refusal("40.00", [Allocation(bill(1, "46.00"), "46.00")]).kind == (
        "allocations_exceed_amount"
    )


# -- the canonical allocation ----------------------------------------------------------


@pytest.mark.parametrize(
    "item,expected",
    [
        ({"amount": 30}, (BILL, Decimal("30"))),
        ({"amount": -9.2}, (CREDIT_NOTE, Decimal("9.2"))),
        (
            {"amount": 9.2, "document_type": "credit_note"},
            (CREDIT_NOTE, Decimal("9.2")),
        ),
        (
            {"amount": -9.2, "document_type": "credit_note"},
            (CREDIT_NOTE, Decimal("9.2")),
        ),
        ({"amount": 30, "document_type": "invoice"}, (BILL, Decimal("30"))),
    ],
)
def test_an_allocation_is_a_credit_note_when_negative_or_said_so(item, expected):
    assert allocation_kind(item) == expected


def _payment(**allocation):
    document = canonical.example("payment")
    document["allocations"][0].update(allocation)
    return canonical.validate("payment", document)


def test_existing_payloads_stay_valid_and_credit_notes_can_be_sent():
    assert canonical.validate("payment", canonical.example("payment")) == []
    assert _payment(amount=-9.2) == []
    assert _payment(amount=9.2, document_type="credit_note") == []


@pytest.mark.parametrize(
    "allocation,reason",
    [
        ({"amount": 0}, "must not be zero"),
        ({"amount": -5, "document_type": "invoice"}, "is negative, which makes it"),
        ({"document_type": "refund"}, "must be one of: invoice, credit_note"),
    ],
)
def test_allocations_that_settle_nothing_or_contradict_themselves_are_refused(
    allocation, reason
):
    errors = _payment(**allocation)
    assert len(errors) == 1
    assert errors[0]["path"].startswith("$.allocations[0]")
    assert reason in errors[0]["reason"]
