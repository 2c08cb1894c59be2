"""The pure parts of the warehouse and Parquet destinations."""

import csv
import datetime
import io
import os
from decimal import Decimal
from unittest import mock

import pyarrow.parquet as pq
import pytest

from lib import bi_copy, bi_parquet, bi_warehouse
from lib.bi_datasets import DATASETS

PAYMENTS = DATASETS["payments"]


def payment_row(key, amount, currency="EUR"):
    return (
        key,
        f"PAY/{key}",
        datetime.date(2026, 10, key % 28 + 1),
        "out",
        "Main",
        "EUR",
        7,
        "Acme",
        "Bank",
        "paid",
        "BILL/1",
        currency,
        Decimal(amount),
        Decimal(amount),
    )


def csv_chunk(rows, live):
    """Rows as PostgreSQL's COPY ... WITH (FORMAT csv) writes a chunk: no
    change time, the key, the live flag, then the columns; NULL empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row, flag in zip(rows, live, strict=True):
        writer.writerow(
            ["", row[0], "t" if flag else "f"]
            + ["" if value is None else value for value in row]
        )
    return out.getvalue().encode()


# -- folders: an attacker's paths ---------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "../outside",
        "finance/../../outside",
        "/etc",
        "~root",
        "finance\\..\\outside",
        "fin\x00ance",
        "fin\nance",
        "",
        "   ",
        "..",
        "finance/$(reboot)",
    ],
)
def test_a_folder_outside_the_export_root_is_refused(tmp_path, attack):
    with pytest.raises(bi_parquet.FolderError):
        bi_parquet.confine(str(tmp_path / "root"), attack)


def test_a_symbolic_link_leading_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secrets").mkdir()
    os.symlink(tmp_path / "secrets", root / "finance")
    with pytest.raises(bi_parquet.FolderError, match="outside the export root"):
        bi_parquet.confine(str(root), "finance/spend")


def test_no_root_configured_refuses_every_folder():
    with pytest.raises(bi_parquet.FolderError, match="fih_bi_parquet_root"):
        bi_parquet.confine("", "finance")


def test_a_folder_under_the_root_is_accepted(tmp_path):
    folder = bi_parquet.confine(str(tmp_path), "finance/./spend-2026")
    assert folder == os.path.join(os.path.realpath(tmp_path), "finance", "spend-2026")


# -- files -----------------------------------------------------------------------


def test_a_kill_before_the_rename_leaves_no_file_under_the_final_name(tmp_path):
    target = tmp_path / "spend" / "spend_full.parquet"
    with mock.patch.object(bi_parquet, "publish", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            bi_parquet.write_bytes(str(target), b"half")
    assert not target.exists()
    bi_parquet.write_bytes(str(target), b"whole")
    assert target.read_bytes() == b"whole"


def test_chunks_keep_decimals_dates_and_tombstones_and_read_back_to_the_cent(
    tmp_path,
):
    schema = bi_parquet.arrow_schema(PAYMENTS, money_scale=2, with_op=True)
    first = bi_parquet.table_from_csv(
        schema,
        csv_chunk([payment_row(1, "10.10"), payment_row(2, "0.20", "USD")], [True] * 2),
        "payment_id",
    )
    second = bi_parquet.table_from_csv(
        schema,
        csv_chunk([payment_row(3, "-0.30"), payment_row(4, "99.99")], [True, False]),
        "payment_id",
    )
    parts = []
    for index, chunk in enumerate((first, second)):
        part = tmp_path / "stage" / f"chunk-{index}.parquet"
        data = bi_parquet.to_bytes(chunk)
        assert data == bi_parquet.to_bytes(chunk)  # same rows, same bytes
        bi_parquet.write_bytes(str(part), data)
        parts.append(str(part))
    target = str(tmp_path / "payments" / "payments_full.parquet")
    bi_parquet.combine(parts, target, schema)
    read = pq.read_table(target)
    assert str(read.schema.field("amount").type) == "decimal128(38, 2)"
    assert read.column("payment_date")[0].as_py() == datetime.date(2026, 10, 2)
    assert read.column("_fih_op").to_pylist() == [
        "upsert",
        "upsert",
        "upsert",
        "delete",
    ]
    assert read.column("amount")[3].as_py() is None  # a tombstone keeps its key
    rows, tombstones, sums = bi_parquet.file_figures(
        target, PAYMENTS.totals, "payment_id"
    )
    assert (rows, tombstones) == (3, 1)
    assert sums[("amount", "EUR", "Main")] == [Decimal("9.80"), 2]
    assert sums[("amount", "USD", "Main")] == [Decimal("0.20"), 1]


def test_an_amount_finer_than_the_currency_precision_is_refused_not_rounded():
    schema = bi_parquet.arrow_schema(PAYMENTS, money_scale=2)
    with pytest.raises(Exception, match="[Rr]escal|precision|data loss"):
        bi_parquet.table_from_csv(
            schema, csv_chunk([payment_row(1, "10.005")], [True]), "payment_id"
        )


# -- warehouse -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "reason"),
    [
        ("host=wh dbname=x user=y options='-c search_path=evil'", "options"),
        ("host=wh dbname=x user=y passfile=/root/.pgpass", "passfile"),
        ("host=wh dbname=x user=y hostaddr=10.0.0.1", "hostaddr"),
        ("host=wh dbname=x user=y service=prod", "service"),
        ("host=/tmp dbname=x user=y", "socket folder"),
        ("dbname=x user=y", "no host"),
        ("host=wh,other dbname=x user=y", "one warehouse host"),
        ("host=wh port=99999 dbname=x user=y", "between 1 and 65535"),
        ("host=wh user=y", "dbname and user"),
        ("not a = dsn = at all", "cannot be read"),
    ],
)
def test_a_connection_string_naming_more_than_a_destination_is_refused(dsn, reason):
    with pytest.raises(bi_warehouse.WarehouseSettingError, match=reason):
        bi_warehouse.destination(dsn)


def test_the_connection_is_pinned_to_the_checked_address_with_its_tls():
    kwargs = bi_warehouse.connect_kwargs(
        "host=wh.example dbname=bi user=r password=p", "198.51.100.7", "verify-ca", "/c"
    )
    assert kwargs["hostaddr"] == "198.51.100.7"
    assert (kwargs["sslmode"], kwargs["sslrootcert"]) == ("verify-ca", "/c")
    with pytest.raises(bi_warehouse.WarehouseSettingError):
        bi_warehouse.connect_kwargs("host=wh dbname=bi user=r", "1.2.3.4", "allow")


def test_csv_lines_keep_text_exactly_and_null_only_where_postgresql_wrote_it():
    # what PostgreSQL's COPY ... WITH (FORMAT csv) writes for awkward text
    data = (
        b',1,t,,"line one\nline two","a, b","say ""hi""",NULL,\n'
        b',2,t,,"",\\N,N/A,"",x\n'
    )
    table = bi_copy.read_chunk(
        data,
        ["_changed_at", "_key", "_live", "_date", "a", "b", "c", "d", "e"],
        {},
        ["a", "b", "c", "d", "e"],
    )
    assert table.to_pylist() == [
        {
            "a": "line one\nline two",
            "b": "a, b",
            "c": 'say "hi"',
            "d": "NULL",
            "e": None,
        },
        {"a": "", "b": "\\N", "c": "N/A", "d": "", "e": "x"},
    ]


def test_a_chunk_line_gives_its_key_change_time_and_live_flag():
    line = b"2026-10-01 08:30:00,42,f,,\n"
    head = bi_copy.head(line)
    assert (head.key, head.live, head.changed_at.hour) == (42, False, 8)
