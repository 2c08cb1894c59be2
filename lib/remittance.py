"""A remittance advice, decided as a whole before any payment is registered.

A supplier payment comes with its remittance advice: which bills it pays,
which credit notes it deducts, each for how much. The hub first finds every
document the advice names, then plans the remittance here, free of the ORM:

* allocations to one document are added up first (one bill named twice, by
  its external id and by its number, is one bill paid with the sum);
* a bill is settled in full, settled with a small difference written off
  under the company's policy, settled with the early payment discount its
  payment term grants on the payment date, or paid in part; paying more
  than is open beyond the policy refuses the whole remittance;
* credit notes are deducted in full and netted against the bills;
* what the remittance pays beyond its allocations is a payment on account.

Amounts are in the remittance currency; a document in another currency
comes with its open amount converted at the payment date by the caller.
Nothing is registered unless the whole plan holds: every refusal is a
:class:`Refused` with a sentence for the finance user.

>>> bill = Document(1, "BILL/0001 (F-1)", BILL, "46.00")
>>> result = plan("46.00", [Allocation(bill, "30.00", "INV-1"),
...                        Allocation(bill, "30.00", "F-1")])
Traceback (most recent call last):
...
lib.remittance.Refused: The remittance allocates 60.00 EUR to BILL/0001 (F-1) \
(INV-1: 30.00, F-1: 30.00), which has only 46.00 EUR left to pay.

>>> policy = WriteOffPolicy(max_amount="0.05", max_percent="1")
>>> result = plan("45.98", [Allocation(bill, "45.98", "INV-1")], policy)
>>> settlement = result.settlements[0]
>>> settlement.outcome, settlement.cash, settlement.write_off
('write_off', Decimal('45.98'), Decimal('0.02'))
>>> termed = Document(1, "BILL/0001 (F-1)", BILL, "46.00", discounted_amount="45.08")
>>> settlement = plan("45.08", [Allocation(termed, "45.08", "INV-1")]).settlements[0]
>>> settlement.outcome, settlement.cash, settlement.write_off
('early_discount', Decimal('45.08'), Decimal('0.92'))
>>> plan("41.00", [Allocation(bill, "41.00", "INV-1")], policy).settlements[0]
Settlement(document=Document(key=1, ...), allocated=Decimal('41.00'), \
outcome='partial', credit=Decimal('0'), cash=Decimal('41.00'), \
write_off=Decimal('0'), remaining=Decimal('5.00'))
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .money import money, plain, to_decimal

BILL = "bill"
CREDIT_NOTE = "credit_note"
ZERO = Decimal(0)

FULL = "full"  # settled exactly
WRITE_OFF = "write_off"  # settled, the small difference written off
PARTIAL = "partial"  # paid in part, the rest stays open
EARLY_DISCOUNT = "early_discount"  # settled, the early payment discount taken


class Refused(ValueError):
    """The remittance cannot be registered; ``kind`` names the reason,
    the message says it to a finance user."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def allocation_kind(allocation):
    """``(kind, amount)`` of a canonical allocation: a credit note when it
    says so (``document_type``) or when its amount is negative; the amount
    is then the positive amount deducted.

    >>> allocation_kind({"invoice_number": "F-1", "amount": 30})
    ('bill', Decimal('30'))
    >>> allocation_kind({"invoice_number": "C-1", "amount": -9.2})
    ('credit_note', Decimal('9.2'))
    >>> allocation_kind({"invoice_number": "C-1", "amount": 9.2,
    ...                  "document_type": "credit_note"})
    ('credit_note', Decimal('9.2'))
    """
    amount = to_decimal(allocation["amount"], "the allocated amount")
    declared = allocation.get("document_type")
    if amount < 0 or declared == "credit_note":
        return CREDIT_NOTE, abs(amount)
    return BILL, amount


def _decimals(instance, **figures):
    converted = {name: to_decimal(value, name) for name, value in figures.items()}
    for name, number in converted.items():
        object.__setattr__(instance, name, number)  # the frozen dataclass idiom
    return converted


@dataclass(frozen=True)
class Document:
    """A bill or credit note the remittance names.

    ``key`` identifies it for the caller (a record id), ``name`` for the
    finance user. ``open_amount``: what is still open, positive, in the
    remittance currency. ``native``: the document is in the remittance
    currency itself (its open amount is not a conversion).
    ``discounted_amount``: what settles it in full on the payment date
    under its payment term's early payment discount, None without one.
    """

    key: object
    name: str
    kind: str
    open_amount: Decimal
    native: bool = True
    discounted_amount: Decimal | None = None

    def __post_init__(self):
        if self.kind not in (BILL, CREDIT_NOTE):
            raise ValueError(f"unknown document kind {self.kind!r}")
        _decimals(self, open_amount=self.open_amount)
        if self.discounted_amount is not None:
            _decimals(self, discounted_amount=self.discounted_amount)


@dataclass(frozen=True)
class Allocation:
    """One line of the advice: ``amount`` (positive) settled on ``document``;
    ``reference`` is how the advice names it."""

    document: Document
    amount: Decimal
    reference: str = ""

    def __post_init__(self):
        if _decimals(self, amount=self.amount)["amount"] <= 0:
            raise ValueError("an allocated amount must be positive")


@dataclass(frozen=True)
class WriteOffPolicy:
    """How far a remittance may differ from what a bill has open and still
    settle it, the difference written off.

    Both limits hold: at most ``max_amount``, and at most ``max_percent`` of
    the bill's open amount (0: no percentage limit).

    >>> policy = WriteOffPolicy(max_amount="1.00", max_percent="2")
    >>> policy.accepts(Decimal("0.90"), Decimal("46.00"))
    True
    >>> policy.accepts(Decimal("-0.93"), Decimal("46.00"))  # 2 % is 0.92
    False
    >>> policy.describe("EUR")
    'up to 1.00 EUR and 2 % of the open amount is written off'
    """

    max_amount: Decimal
    max_percent: Decimal = ZERO

    def __post_init__(self):
        limits = _decimals(
            self, max_amount=self.max_amount, max_percent=self.max_percent
        )
        if limits["max_amount"] < 0 or limits["max_percent"] < 0:
            raise ValueError("a write-off limit must not be negative")

    def accepts(self, difference, open_amount):
        gap = abs(difference)
        if gap > self.max_amount:
            return False
        return not self.max_percent or gap * 100 <= open_amount * self.max_percent

    def describe(self, currency):
        text = f"up to {money(self.max_amount)} {currency}"
        if self.max_percent:
            text += f" and {plain(self.max_percent)} % of the open amount"
        return text + " is written off"


@dataclass(frozen=True)
class Settlement:
    """What the remittance does to one document.

    ``allocated``: the sum of its allocations. For a bill, ``credit`` is the
    part settled by credit notes of the remittance and ``cash`` the part
    paid; ``write_off`` is the open amount minus the allocated one when it
    is written off (negative when the remittance paid more), ``remaining``
    what stays open after a partial payment.
    """

    document: Document
    allocated: Decimal
    outcome: str
    credit: Decimal = ZERO
    cash: Decimal = ZERO
    write_off: Decimal = ZERO
    remaining: Decimal = ZERO


@dataclass(frozen=True)
class Netting:
    """``amount`` of ``credit_note`` set off against ``bill``."""

    credit_note: Document
    bill: Document
    amount: Decimal


@dataclass(frozen=True)
class Plan:
    """The remittance as a whole: ``settlements`` per document (in the order
    the advice first names them), the credit notes' ``nettings``, and
    ``on_account``, the rest paid without a document."""

    settlements: tuple[Settlement, ...]
    nettings: tuple[Netting, ...] = ()
    on_account: Decimal = ZERO
    currency: str = field(default="", compare=False)

    def of(self, kind):
        return [s for s in self.settlements if s.document.kind == kind]

    @property
    def bills_paid_in_full(self):
        """Bills in the remittance currency settled exactly, with money to
        pay: they can share one payment."""
        return [
            s
            for s in self.of(BILL)
            if s.outcome == FULL and s.document.native and s.cash > 0
        ]

    @property
    def bills_paid_alone(self):
        """Bills that need a payment of their own: a write-off, a partial
        payment or another currency."""
        full = {s.document.key for s in self.bills_paid_in_full}
        return [s for s in self.of(BILL) if s.cash > 0 and s.document.key not in full]


# -- the plan ------------------------------------------------------------------


def _grouped(allocations):
    """``{key: (document, total, [allocations])}`` in the order of the advice."""
    groups = {}
    for allocation in allocations:
        document = allocation.document
        if document.key in groups:
            _doc, total, items = groups[document.key]
            groups[document.key] = (document, total + allocation.amount, items)
            items.append(allocation)
        else:
            groups[document.key] = (document, allocation.amount, [allocation])
    return groups


def _named(items):
    if len(items) == 1:
        return ""
    return " (" + ", ".join(f"{i.reference}: {money(i.amount)}" for i in items) + ")"


def _settle(document, total, items, policy, currency):
    """The outcome for one document, before credit notes are netted."""
    difference = document.open_amount - total
    if document.open_amount <= 0:
        raise Refused(
            "settled",
            f"The remittance pays {document.name}, which has nothing left to pay.",
        )
    if difference == 0:
        return Settlement(document, total, FULL)
    if document.discounted_amount == total and document.kind == BILL:
        # the discount the payment term grants, booked by Odoo as a write-off
        return Settlement(document, total, EARLY_DISCOUNT, write_off=difference)
    if document.kind == CREDIT_NOTE:
        raise Refused(
            "credit_note_in_part",
            f"The remittance deducts {money(total)} {currency} of credit note "
            f"{document.name}{_named(items)}, which has {money(document.open_amount)} "
            f"{currency} open; credit notes are deducted in full. Deduct the "
            "rest of the credit note in Odoo, or correct the remittance.",
        )
    if policy and policy.accepts(difference, document.open_amount):
        return Settlement(document, total, WRITE_OFF, write_off=difference)
    if difference > 0:
        return Settlement(document, total, PARTIAL, remaining=difference)
    tolerated = f" ({policy.describe(currency)})" if policy else ""
    raise Refused(
        "over_allocated",
        f"The remittance allocates {money(total)} {currency} to {document.name}"
        f"{_named(items)}, which has only {money(document.open_amount)} "
        f"{currency} left to pay{tolerated}.",
    )


def _net(settlements, currency):
    """Set each credit note off against the bills, those settled exactly in
    full first: a bill settled in part (or with a write-off) can only take
    what remains of a credit note, since Odoo sets off as much as both
    documents have open, and no bill takes more than it has open.

    >>> bill = Document("b1", "BILL/1", BILL, "46.00")
    >>> credit = Document("c1", "RBILL/1", CREDIT_NOTE, "20.00")
    >>> result = plan("26.04", [Allocation(bill, "46.04"), Allocation(credit, "20.00")],
    ...               WriteOffPolicy(max_amount="0.05"))
    >>> [(n.amount, s.cash, s.write_off) for n, s in
    ...  zip(result.nettings, result.of(BILL), strict=True)]
    [(Decimal('20.00'), Decimal('26.04'), Decimal('-0.04'))]
    """
    order = {FULL: 0, WRITE_OFF: 1, EARLY_DISCOUNT: 1, PARTIAL: 2}
    bills = sorted(
        (s for s in settlements if s.document.kind == BILL and s.document.native),
        key=lambda s: order[s.outcome],
    )
    # a bill takes at most what it has open, even when the remittance pays
    # a little more (written off): Odoo sets off no more than that
    capacity = {s.document.key: min(s.allocated, s.document.open_amount) for s in bills}
    nettings = []
    for credit in (s for s in settlements if s.document.kind == CREDIT_NOTE):
        if not credit.document.native:
            raise Refused(
                "credit_note_currency",
                f"Credit note {credit.document.name} is not in {currency}, the "
                "currency of the remittance; deduct it in Odoo.",
            )
        left = credit.allocated
        for bill in bills:
            room = capacity[bill.document.key]
            if not left or not room or (bill.outcome != FULL and left > room):
                continue
            amount = min(left, room)
            nettings.append(Netting(credit.document, bill.document, amount))
            capacity[bill.document.key] -= amount
            left -= amount
        if left:
            raise Refused(
                "credit_note_not_netted",
                f"Credit note {credit.document.name} ({money(credit.allocated)} "
                f"{currency}) is more than the bills of the remittance in "
                f"{currency} settled in full can take; deduct it in Odoo.",
            )
    return nettings


def _check_places(amount, amounts, places, currency):
    """Money is in the currency's smallest unit: a third decimal in euros
    would be rounded by someone, so nobody does.

    >>> _check_places(Decimal("10.005"), [], 2, "EUR")
    Traceback (most recent call last):
    ...
    lib.remittance.Refused: The remittance states 10.005 EUR, more decimals \
than EUR has (2); correct the remittance.
    """
    for number in (amount, *amounts):
        _sign, digits, exponent = number.as_tuple()
        while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
            digits, exponent = digits[:-1], exponent + 1  # 10.50 has 1 decimal
        if -exponent > places:
            raise Refused(
                "precision",
                f"The remittance states {plain(number)} {currency}, more decimals "
                f"than {currency} has ({places}); correct the remittance.",
            )


def plan(amount, allocations, policy=None, currency="EUR", places=2):
    """Decide a remittance of ``amount`` with its ``allocations``.

    ``policy``: the company's :class:`WriteOffPolicy` for ``currency``, or
    None (no difference is written off); ``places``: the decimals of the
    currency. Raises :class:`Refused`.

    Two bills and a credit note deducted from the first, one payment:

    >>> first = Document("b1", "BILL/1", BILL, "46.00")
    >>> second = Document("b2", "BILL/2", BILL, "27.60")
    >>> credit = Document("c1", "RBILL/1", CREDIT_NOTE, "9.20")
    >>> result = plan("64.40", [Allocation(first, "46.00"),
    ...     Allocation(second, "27.60"), Allocation(credit, "9.20")])
    >>> [(n.credit_note.key, n.bill.key, n.amount) for n in result.nettings]
    [('c1', 'b1', Decimal('9.20'))]
    >>> [(s.document.key, s.cash) for s in result.bills_paid_in_full]
    [('b1', Decimal('36.80')), ('b2', Decimal('27.60'))]

    What is not allocated is paid on account:

    >>> plan("100.00", [Allocation(first, "46.00")]).on_account
    Decimal('54.00')
    >>> plan("40.00", [Allocation(first, "46.00")])
    Traceback (most recent call last):
    ...
    lib.remittance.Refused: The remittance of 40.00 EUR allocates 46.00 EUR \
(bills 46.00 less credit notes 0.00); the figures must agree.
    """
    amount = to_decimal(amount, "the remittance amount")
    _check_places(amount, [a.amount for a in allocations], places, currency)
    groups = _grouped(allocations)
    settlements = [
        _settle(document, total, items, policy, currency)
        for document, total, items in groups.values()
    ]
    bills = sum((s.allocated for s in settlements if s.document.kind == BILL), ZERO)
    credits = sum(
        (s.allocated for s in settlements if s.document.kind == CREDIT_NOTE), ZERO
    )
    if amount < bills - credits:
        raise Refused(
            "allocations_exceed_amount",
            f"The remittance of {money(amount)} {currency} allocates "
            f"{money(bills - credits)} {currency} (bills {money(bills)} less "
            f"credit notes {money(credits)}); the figures must agree.",
        )
    if credits > bills:
        raise Refused(
            "credit_notes_exceed_bills",
            f"The remittance deducts {money(credits)} {currency} of credit notes "
            f"from {money(bills)} {currency} of bills; deduct the credit notes "
            "in Odoo.",
        )
    nettings = _net(settlements, currency)
    netted = {}
    for netting in nettings:
        netted[netting.bill.key] = netted.get(netting.bill.key, ZERO) + netting.amount
    final = []
    for settlement in settlements:
        if settlement.document.kind == BILL:
            credit = netted.get(settlement.document.key, ZERO)
            cash = settlement.allocated - credit
            if settlement.outcome in (WRITE_OFF, EARLY_DISCOUNT) and not cash:
                raise Refused(
                    "write_off_without_payment",
                    f"Credit notes settle all of {settlement.document.name} "
                    "but its write-off; deduct them in Odoo.",
                )
            if settlement.outcome == EARLY_DISCOUNT and credit:
                # Odoo only grants the discount on a bill none of whose
                # payable is matched yet: setting a credit note off first
                # would leave the discount open
                raise Refused(
                    "early_discount_with_credit_note",
                    f"The remittance takes the early payment discount on "
                    f"{settlement.document.name} and deducts a credit note from "
                    f"it ({money(credit)} {currency}); Odoo grants the discount "
                    "only on a bill paid in one go. Register this payment in "
                    "Odoo with the bill and the credit note together (Register "
                    "Payment on both), or ask the supplier to send them apart.",
                )
            if settlement.outcome == WRITE_OFF and (
                credit >= settlement.document.open_amount
            ):
                raise Refused(
                    "write_off_without_payment",
                    f"Credit notes of the remittance settle all of "
                    f"{settlement.document.name} ({money(credit)} {currency}), "
                    f"which leaves nothing open for the {money(cash)} {currency} "
                    "the remittance pays on it beyond its open amount; deduct "
                    "the credit notes in Odoo and register the payment there, "
                    "or ask the supplier to correct the remittance.",
                )
            settlement = Settlement(
                settlement.document,
                settlement.allocated,
                settlement.outcome,
                credit=credit,
                cash=cash,
                write_off=settlement.write_off,
                remaining=settlement.remaining,
            )
        final.append(settlement)
    return Plan(tuple(final), tuple(nettings), amount - (bills - credits), currency)
