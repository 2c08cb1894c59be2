"""The datasets published to reporting platforms, each defined once.

A dataset is a documented list of columns, the control totals that prove a
load complete, and one SQL ``SELECT`` that any publication of it reuses,
whatever the BI tool or the format. Besides its columns, the ``SELECT``
returns five technical ones the publication engine filters and orders on:

``_changed_at``, ``_key``
    the change feed: a watermark (changed at, key) makes loads incremental
    without losing rows that share a timestamp;
``_live``
    false when the row left the dataset (bill reset to draft or cancelled,
    supplier archived): an incremental load sends it as a tombstone;
``_company_id``, ``_date``
    the company, and the accounting date a period publication filters on.

The engine provides ``fih_params.as_of``, the day of the load, for snapshot
datasets that age amounts.

Snapshot datasets (open commitments, AP aging) describe a state at a moment,
not a history of changes: every load replaces the previous one.

>>> sorted(DATASETS)
['ap_aging', 'open_commitments', 'payments', 'spend', 'suppliers']
>>> DATASETS["spend"].key_column
'line_id'
>>> [total.amount for total in DATASETS["spend"].totals]
['amount_currency', 'amount_company']
>>> DATASETS["ap_aging"].incremental
False
"""

import re
from dataclasses import dataclass

COLUMN_TYPES = ("integer", "text", "date", "numeric", "boolean")
# column names are written into SQL: plain lower-case identifiers only
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str

    def __post_init__(self):
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"unknown column type {self.type!r}")
        if not _IDENTIFIER.match(self.name):
            raise ValueError(f"column name {self.name!r} is not a plain identifier")


@dataclass(frozen=True)
class Total:
    """A control total: the sum of ``amount`` per currency and company."""

    amount: str
    currency: str
    company: str = "company"


@dataclass(frozen=True)
class Dataset:
    code: str
    label: str
    description: str
    columns: tuple
    key_column: str
    select: str
    totals: tuple = ()
    incremental: bool = True
    # hard deletions are read from fih_bi_deletion for this model
    deletion_model: str = ""

    @property
    def column_names(self):
        return [column.name for column in self.columns]

    @property
    def total_columns(self):
        """The columns the control totals read, each once, in a fixed order."""
        names = []
        for total in self.totals:
            for name in (total.amount, total.currency, total.company):
                if name not in names:
                    names.append(name)
        return names

    def ndjson_sql(self, alias):
        """SQL rendering a row of ``alias`` as its NDJSON line (without the
        newline): PostgreSQL writes the JSON, in C, from the typed values.

        >>> print(Dataset("x", "X", "", _columns(("id", "integer", ""),
        ...     ("name", "text", "")), "id", "").ndjson_sql("feed"))
        CASE WHEN feed._live THEN (SELECT row_to_json(fih_row)::text FROM \
(SELECT 'upsert' AS _op, feed.id, feed.name) fih_row) ELSE (SELECT \
row_to_json(fih_row)::text FROM (SELECT 'delete' AS _op, feed._key AS id) \
fih_row) END
        """
        values = ", ".join(f"{alias}.{name}" for name in self.column_names)
        # identifiers only, checked by Column and written by this module
        return (
            f"CASE WHEN {alias}._live THEN (SELECT row_to_json(fih_row)::text "  # noqa: S608
            f"FROM (SELECT 'upsert' AS _op, {values}) fih_row) ELSE (SELECT "
            f"row_to_json(fih_row)::text FROM (SELECT 'delete' AS _op, "
            f"{alias}._key AS {self.key_column}) fih_row) END"
        )


def _columns(*specs):
    return tuple(Column(*spec) for spec in specs)


# columns and SQL that several datasets share, written once
_COMPANY_CURRENCY = ("company_currency", "text", "Currency of that company's books.")
_SUPPLIER = (
    ("supplier_id", "integer", "Odoo id of the supplier."),
    ("supplier", "text", "Supplier name."),
)
_COST_CENTERS = ("cost_centers", "text", "Analytic distribution: code=percent;...")
_COST_CENTERS_SQL = """CASE WHEN l.analytic_distribution IS NOT NULL THEN
           (SELECT string_agg(coalesce(aa.code, aa.id::text) || '=' || d.value, ';'
                              ORDER BY aa.id)
              FROM jsonb_each_text(l.analytic_distribution) d
              JOIN account_analytic_account aa ON aa.id::text = d.key)
       END AS cost_centers"""


def _select(text):
    """A dataset's SELECT with the shared SQL filled in (``{cost_centers}``)."""
    return text.format(cost_centers=_COST_CENTERS_SQL)


SPEND = Dataset(
    code="spend",
    label="Spend (posted vendor bill lines)",
    description=(
        "One row per product line of a posted vendor bill or credit note. "
        "Credit notes carry negative amounts, so a sum is net spend."
    ),
    key_column="line_id",
    totals=(
        Total("amount_currency", "currency"),
        Total("amount_company", "company_currency"),
    ),
    deletion_model="account.move.line",
    columns=_columns(
        ("line_id", "integer", "Odoo id of the bill line; the row's key."),
        ("bill_id", "integer", "Odoo id of the vendor bill or credit note."),
        ("bill_number", "text", "Odoo number of the bill (e.g. BILL/2026/00042)."),
        ("supplier_reference", "text", "The supplier's own invoice number."),
        ("document_type", "text", "invoice or credit_note."),
        ("invoice_date", "date", "Date printed on the supplier's document."),
        ("accounting_date", "date", "Date of the journal entry (its period)."),
        ("due_date", "date", "When the bill is due."),
        ("company", "text", "Company that booked the bill."),
        _COMPANY_CURRENCY,
        *_SUPPLIER,
        ("supplier_vat", "text", "Supplier VAT number."),
        ("product_code", "text", "Internal reference of the product, if any."),
        ("description", "text", "Product or line description."),
        ("product_category", "text", "Full product category path."),
        ("account_code", "text", "Expense account code."),
        ("account", "text", "Expense account name."),
        _COST_CENTERS,
        ("purchase_order", "text", "Purchase order the line was billed from."),
        ("quantity", "numeric", "Billed quantity."),
        ("unit_price", "numeric", "Unit price in the bill currency."),
        ("currency", "text", "Currency of the bill."),
        ("amount_currency", "numeric", "Line amount excl. tax, bill currency."),
        ("amount_company", "numeric", "Line amount excl. tax, company currency."),
    ),
    # account codes are stored per root company since Odoo 18
    select=_select("""
SELECT greatest(l.write_date, m.write_date) AS _changed_at,
       l.id AS _key,
       (m.state = 'posted') AS _live,
       m.posted_before AS _was_published,
       l.company_id AS _company_id,
       l.date AS _date,
       l.id AS line_id,
       m.id AS bill_id,
       m.name AS bill_number,
       m.ref AS supplier_reference,
       CASE m.move_type WHEN 'in_refund' THEN 'credit_note' ELSE 'invoice' END
           AS document_type,
       m.invoice_date AS invoice_date,
       l.date AS accounting_date,
       m.invoice_date_due AS due_date,
       c.name AS company,
       ccur.name AS company_currency,
       p.id AS supplier_id,
       p.name AS supplier,
       p.vat AS supplier_vat,
       pp.default_code AS product_code,
       l.name AS description,
       categ.complete_name AS product_category,
       a.code_store->>split_part(c.parent_path, '/', 1) AS account_code,
       coalesce(a.name->>'en_US',
                (SELECT min(v) FROM jsonb_each_text(a.name) AS t(k, v))) AS account,
       {cost_centers},
       po.name AS purchase_order,
       l.quantity AS quantity,
       l.price_unit AS unit_price,
       cur.name AS currency,
       l.amount_currency AS amount_currency,
       l.balance AS amount_company
  FROM account_move_line l
  JOIN account_move m ON m.id = l.move_id
  JOIN res_company c ON c.id = l.company_id
  JOIN res_currency ccur ON ccur.id = c.currency_id
  JOIN res_currency cur ON cur.id = l.currency_id
  LEFT JOIN res_partner p ON p.id = m.commercial_partner_id
  LEFT JOIN product_product pp ON pp.id = l.product_id
  LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
  LEFT JOIN product_category categ ON categ.id = pt.categ_id
  LEFT JOIN account_account a ON a.id = l.account_id
  LEFT JOIN purchase_order_line pol ON pol.id = l.purchase_line_id
  LEFT JOIN purchase_order po ON po.id = pol.order_id
 WHERE m.move_type IN ('in_invoice', 'in_refund')
   AND l.display_type = 'product'
"""),
)

OPEN_COMMITMENTS = Dataset(
    code="open_commitments",
    label="Open purchase commitments",
    description=(
        "One row per line of a confirmed purchase order that is not fully "
        "received and billed: what the company has committed and not yet "
        "paid for. A snapshot: every load replaces the previous one."
    ),
    key_column="order_line_id",
    incremental=False,
    totals=(
        Total("open_amount", "currency"),
        Total("open_amount_company", "company_currency"),
    ),
    columns=_columns(
        ("order_line_id", "integer", "Odoo id of the purchase order line."),
        ("purchase_order", "text", "Purchase order number."),
        ("order_date", "date", "Date the order was confirmed."),
        ("company", "text", "Ordering company."),
        _COMPANY_CURRENCY,
        *_SUPPLIER,
        ("product_code", "text", "Internal reference of the product."),
        ("description", "text", "Line description."),
        _COST_CENTERS,
        ("ordered_qty", "numeric", "Quantity ordered."),
        ("received_qty", "numeric", "Quantity received so far."),
        ("invoiced_qty", "numeric", "Quantity billed so far."),
        ("open_to_receive_qty", "numeric", "Ordered minus received."),
        ("open_to_invoice_qty", "numeric", "Ordered minus billed."),
        ("currency", "text", "Currency of the order."),
        ("open_amount", "numeric", "Open (not yet billed) value excl. tax."),
        ("open_amount_company", "numeric", "The same in company currency."),
    ),
    select=_select("""
SELECT greatest(l.write_date, o.write_date) AS _changed_at,
       l.id AS _key,
       true AS _live,
       true AS _was_published,
       l.company_id AS _company_id,
       o.date_approve::date AS _date,
       l.id AS order_line_id,
       o.name AS purchase_order,
       o.date_approve::date AS order_date,
       c.name AS company,
       ccur.name AS company_currency,
       p.id AS supplier_id,
       p.name AS supplier,
       pp.default_code AS product_code,
       l.name AS description,
       {cost_centers},
       l.product_qty AS ordered_qty,
       l.qty_received AS received_qty,
       l.qty_invoiced AS invoiced_qty,
       l.product_qty - l.qty_received AS open_to_receive_qty,
       l.product_qty - l.qty_invoiced AS open_to_invoice_qty,
       cur.name AS currency,
       round((l.price_subtotal * (l.product_qty - l.qty_invoiced)
              / nullif(l.product_qty, 0))::numeric, cur.decimal_places)
           AS open_amount,
       round((l.price_subtotal * (l.product_qty - l.qty_invoiced)
              / nullif(l.product_qty, 0) / nullif(o.currency_rate, 0))::numeric,
             ccur.decimal_places)
           AS open_amount_company
  FROM purchase_order_line l
  JOIN purchase_order o ON o.id = l.order_id
  JOIN res_company c ON c.id = l.company_id
  JOIN res_currency ccur ON ccur.id = c.currency_id
  JOIN res_currency cur ON cur.id = o.currency_id
  LEFT JOIN res_partner p ON p.id = o.partner_id
  LEFT JOIN product_product pp ON pp.id = l.product_id
 WHERE o.state IN ('purchase', 'done')
   AND l.display_type IS NULL
   AND (l.qty_invoiced < l.product_qty OR l.qty_received < l.product_qty)
"""),
)

AP_AGING = Dataset(
    code="ap_aging",
    label="AP aging",
    description=(
        "One row per posted vendor bill or credit note with an open balance, "
        "with its days overdue and aging bucket on the day of the load. "
        "A snapshot: every load replaces the previous one."
    ),
    key_column="bill_id",
    incremental=False,
    totals=(
        Total("open_amount", "currency"),
        Total("open_amount_company", "company_currency"),
    ),
    columns=_columns(
        ("bill_id", "integer", "Odoo id of the vendor bill or credit note."),
        ("bill_number", "text", "Odoo number of the bill."),
        ("supplier_reference", "text", "The supplier's own invoice number."),
        ("document_type", "text", "invoice or credit_note."),
        ("company", "text", "Company that owes (or is owed) the amount."),
        _COMPANY_CURRENCY,
        *_SUPPLIER,
        ("invoice_date", "date", "Date printed on the supplier's document."),
        ("due_date", "date", "When the bill is due."),
        ("as_of", "date", "Day the aging was computed."),
        ("days_overdue", "integer", "Days past the due date (0 if not due)."),
        ("bucket", "text", "current, 1-30, 31-60, 61-90 or 90+ days overdue."),
        ("currency", "text", "Currency of the bill."),
        (
            "open_amount",
            "numeric",
            "Amount still to pay, bill currency; " "negative for credit notes.",
        ),
        ("open_amount_company", "numeric", "The same in company currency."),
    ),
    select=_select("""
SELECT m.write_date AS _changed_at,
       m.id AS _key,
       true AS _live,
       true AS _was_published,
       m.company_id AS _company_id,
       m.date AS _date,
       m.id AS bill_id,
       m.name AS bill_number,
       m.ref AS supplier_reference,
       CASE m.move_type WHEN 'in_refund' THEN 'credit_note' ELSE 'invoice' END
           AS document_type,
       c.name AS company,
       ccur.name AS company_currency,
       p.id AS supplier_id,
       p.name AS supplier,
       m.invoice_date AS invoice_date,
       m.invoice_date_due AS due_date,
       fih_params.as_of AS as_of,
       greatest(fih_params.as_of - coalesce(m.invoice_date_due, m.invoice_date), 0)
           AS days_overdue,
       CASE
           WHEN fih_params.as_of - coalesce(m.invoice_date_due, m.invoice_date) <= 0
               THEN 'current'
           WHEN fih_params.as_of - coalesce(m.invoice_date_due, m.invoice_date) <= 30
               THEN '1-30'
           WHEN fih_params.as_of - coalesce(m.invoice_date_due, m.invoice_date) <= 60
               THEN '31-60'
           WHEN fih_params.as_of - coalesce(m.invoice_date_due, m.invoice_date) <= 90
               THEN '61-90'
           ELSE '90+'
       END AS bucket,
       cur.name AS currency,
       CASE m.move_type WHEN 'in_refund' THEN -m.amount_residual
            ELSE m.amount_residual END AS open_amount,
       -m.amount_residual_signed AS open_amount_company
  FROM account_move m
  JOIN res_company c ON c.id = m.company_id
  JOIN res_currency ccur ON ccur.id = c.currency_id
  JOIN res_currency cur ON cur.id = m.currency_id
  LEFT JOIN res_partner p ON p.id = m.commercial_partner_id
 CROSS JOIN fih_params
 WHERE m.move_type IN ('in_invoice', 'in_refund')
   AND m.state = 'posted'
   AND m.amount_residual <> 0
"""),
)

PAYMENTS = Dataset(
    code="payments",
    label="Payments and cash out",
    description=(
        "One row per confirmed payment to a supplier (or refund received "
        "from one), with the bills it settled."
    ),
    key_column="payment_id",
    totals=(
        Total("amount", "currency"),
        Total("amount_company", "company_currency"),
    ),
    deletion_model="account.payment",
    columns=_columns(
        ("payment_id", "integer", "Odoo id of the payment; the row's key."),
        ("payment_reference", "text", "Odoo number of the payment."),
        ("payment_date", "date", "Date of the payment."),
        ("direction", "text", "out: paid to the supplier; in: refund received."),
        ("company", "text", "Paying company."),
        _COMPANY_CURRENCY,
        *_SUPPLIER,
        ("journal", "text", "Bank or cash journal."),
        ("state", "text", "in_process (sent, not yet matched with the bank) or paid."),
        ("bills", "text", "Numbers of the bills it paid, ';'-separated."),
        ("currency", "text", "Currency of the payment."),
        (
            "amount",
            "numeric",
            "Cash out (positive) or in (negative), payment " "currency.",
        ),
        ("amount_company", "numeric", "The same in company currency."),
    ),
    select=_select("""
SELECT pay.write_date AS _changed_at,
       pay.id AS _key,
       (pay.state IN ('in_process', 'paid')) AS _live,
       true AS _was_published,
       pay.company_id AS _company_id,
       pay.date AS _date,
       pay.id AS payment_id,
       pay.name AS payment_reference,
       pay.date AS payment_date,
       CASE pay.payment_type WHEN 'outbound' THEN 'out' ELSE 'in' END AS direction,
       c.name AS company,
       ccur.name AS company_currency,
       p.id AS supplier_id,
       p.name AS supplier,
       coalesce(j.name->>'en_US',
                (SELECT min(v) FROM jsonb_each_text(j.name) AS t(k, v))) AS journal,
       pay.state AS state,
       (SELECT string_agg(bill.name, ';' ORDER BY bill.id)
          FROM account_move__account_payment rel
          JOIN account_move bill ON bill.id = rel.invoice_id
         WHERE rel.payment_id = pay.id) AS bills,
       cur.name AS currency,
       CASE pay.payment_type WHEN 'outbound' THEN pay.amount ELSE -pay.amount END
           AS amount,
       CASE pay.payment_type
            WHEN 'outbound' THEN abs(pay.amount_company_currency_signed)
            ELSE -abs(pay.amount_company_currency_signed)
       END AS amount_company
  FROM account_payment pay
  JOIN res_company c ON c.id = pay.company_id
  JOIN res_currency ccur ON ccur.id = c.currency_id
  JOIN res_currency cur ON cur.id = pay.currency_id
  LEFT JOIN res_partner p ON p.id = pay.partner_id
  LEFT JOIN account_journal j ON j.id = pay.journal_id
 WHERE pay.partner_type = 'supplier'
"""),
)

SUPPLIERS = Dataset(
    code="suppliers",
    label="Supplier master",
    description="One row per active supplier (a company contact that has been "
    "purchased from or billed).",
    key_column="supplier_id",
    deletion_model="res.partner",
    columns=_columns(
        ("supplier_id", "integer", "Odoo id of the supplier; the row's key."),
        ("name", "text", "Supplier name."),
        ("vat", "text", "VAT number."),
        ("company_registry", "text", "Company registry number."),
        ("country", "text", "ISO country code."),
        ("city", "text", "City."),
        ("email", "text", "E-mail address."),
        ("company", "text", "Company it belongs to; empty when shared."),
        ("bank_accounts", "integer", "Number of bank accounts on file."),
    ),
    select=_select("""
SELECT p.write_date AS _changed_at,
       p.id AS _key,
       (p.active AND p.supplier_rank > 0) AS _live,
       true AS _was_published,
       p.company_id AS _company_id,
       p.create_date::date AS _date,
       p.id AS supplier_id,
       p.name AS name,
       p.vat AS vat,
       p.company_registry AS company_registry,
       country.code AS country,
       p.city AS city,
       p.email AS email,
       c.name AS company,
       (SELECT count(*) FROM res_partner_bank b
         WHERE b.partner_id = p.id AND b.active)::integer AS bank_accounts
  FROM res_partner p
  LEFT JOIN res_company c ON c.id = p.company_id
  LEFT JOIN res_country country ON country.id = p.country_id
 WHERE p.parent_id IS NULL
   AND (p.supplier_rank > 0 OR NOT p.active)
"""),
)

DATASETS = {
    dataset.code: dataset
    for dataset in (SPEND, OPEN_COMMITMENTS, AP_AGING, PAYMENTS, SUPPLIERS)
}
