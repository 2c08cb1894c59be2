import gzip
import hashlib
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import bi_encoding
from lib.bi_datasets import DATASETS, Column
from simulator.bi_warehouse import BiWarehouse, parse
from simulator.records import RecordedRequest

COLUMNS = ["id", "supplier", "amount", "currency", "company"]
SPEC = [("amount", "currency", "company")]


def request(path, body, headers=None):
    return RecordedRequest(
        seq=1,
        method="POST",
        path=path,
        query="",
        headers={key.lower(): value for key, value in (headers or {}).items()},
        raw_body=body,
        received_at=0.0,
    )


def chunk_request(load, sequence, raw, fmt="ndjson", digest=None):
    return request(
        f"/publications/spend/loads/{load}/chunks/{sequence}",
        bi_encoding.compress(raw),
        {
            "Content-Type": bi_encoding.CONTENT_TYPES[fmt],
            "X-FIH-Chunk-SHA256": digest or bi_encoding.sha256(raw),
        },
    )


def manifest_request(load, manifest):
    return request(
        f"/publications/spend/loads/{load}/manifest", json.dumps(manifest).encode()
    )


def ndjson(*rows):
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def manifest_for(chunks, totals, rows, tombstones=0, fmt="ndjson", replace=False):
    return {
        "format": fmt,
        "key": "id",
        "replace": replace,
        "control_totals": [
            {"amount": "amount", "currency": "currency", "company": "company"}
        ],
        "rows": rows,
        "tombstones": tombstones,
        "totals": totals,
        "content_sha256": bi_encoding.content_hash(
            [bi_encoding.sha256(chunk) for chunk in chunks]
        ),
    }


# -- encoding ----------------------------------------------------------------


def test_csv_chunks_stand_alone_with_their_header_and_tombstones():
    raw = bi_encoding.encode_csv(
        COLUMNS,
        [
            (1, 'Acme "EU", NV', Decimal("10.50"), "EUR", "BE"),
            (2, None, None, None, None),
        ],
        [True, False],
    )
    rows = list(parse(raw, "csv"))
    assert rows == [
        (
            "upsert",
            {
                "id": "1",
                "supplier": 'Acme "EU", NV',
                "amount": "10.50",
                "currency": "EUR",
                "company": "BE",
            },
        ),
        (
            "delete",
            {"id": "2", "supplier": "", "amount": "", "currency": "", "company": ""},
        ),
    ]


def test_the_same_rows_compress_to_the_same_bytes():
    raw = bi_encoding.encode_csv(COLUMNS, [(1, "A", Decimal("1"), "EUR", "BE")], [True])
    first, second = bi_encoding.compress(raw), bi_encoding.compress(raw)
    assert first == second
    assert gzip.decompress(first) == raw


def test_the_content_hash_depends_on_the_order_of_chunks():
    assert bi_encoding.content_hash(["a", "b"]) != bi_encoding.content_hash(["b", "a"])
    assert bi_encoding.content_hash(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest()


amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
rows_strategy = st.lists(
    st.tuples(amounts, st.sampled_from(["EUR", "USD"]), st.sampled_from(["BE", "FR"])),
    max_size=40,
)


@given(rows_strategy, st.integers(min_value=1, max_value=7))
def test_totals_of_chunks_merge_into_the_totals_of_all_rows(rows, chunk_size):
    rows = [(n, "S", amount, cur, co) for n, (amount, cur, co) in enumerate(rows)]
    whole = bi_encoding.ControlTotals(SPEC, COLUMNS)
    for row in rows:
        whole.add(row)
    merged = bi_encoding.ControlTotals([], [])
    for start in range(0, len(rows), chunk_size):
        part = bi_encoding.ControlTotals(SPEC, COLUMNS)
        for row in rows[start : start + chunk_size]:
            part.add(row)
        merged.merge(part.as_list())
    assert merged.as_list() == whole.as_list()


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), amounts.map(str), amounts),
            st.sampled_from(["EUR", "USD", None]),
            st.sampled_from(["BE", "FR"]),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_a_chunk_summed_at_once_has_the_totals_of_its_rows_one_by_one(rows):
    rows = [
        (n, "S", amount, cur, co, live)
        for n, (amount, cur, co, live) in enumerate(rows)
    ]
    one_by_one = bi_encoding.ControlTotals(SPEC, COLUMNS)
    for row in rows:
        if row[5]:
            one_by_one.add(row[:5])
    at_once = bi_encoding.ControlTotals(SPEC, COLUMNS)
    at_once.add_live([row[:5] for row in rows], [row[5] for row in rows])
    assert at_once.as_list() == one_by_one.as_list()


def test_an_acknowledgement_with_the_same_figures_reconciles():
    totals = [
        {
            "amount": "amount",
            "currency": "EUR",
            "company": "BE",
            "rows": 2,
            "total": "3.00",
        }
    ]
    sent = {"rows": 2, "tombstones": 1, "totals": totals, "content_sha256": "h"}
    # a platform may write 3 for 3.00: the amounts are compared as numbers
    ack = dict(sent, totals=[dict(totals[0], total="3")])
    assert bi_encoding.compare(sent, ack) == []


def test_each_differing_figure_is_explained():
    totals = [
        {
            "amount": "amount",
            "currency": "EUR",
            "company": "BE",
            "rows": 2,
            "total": "3.00",
        }
    ]
    sent = {"rows": 2, "tombstones": 1, "totals": totals, "content_sha256": "h"}
    ack = {
        "rows": 2,
        "tombstones": 0,
        "totals": [
            {
                "amount": "amount",
                "currency": "USD",
                "company": "BE",
                "rows": 2,
                "total": "3.00",
            }
        ],
        "content_sha256": "other",
    }
    differences = bi_encoding.compare(sent, ack)
    assert differences == [
        "Deletions: sent 1, the reporting platform counted 0.",
        "amount in EUR for BE: sent 3.00, the reporting platform summed nothing.",
        "amount in USD for BE: sent nothing, the reporting platform summed 3.00.",
        "The content hash differs: the reporting platform did not store exactly "
        "the bytes that were sent.",
    ]


# -- dataset definitions -----------------------------------------------------------


@pytest.mark.parametrize("dataset", DATASETS.values(), ids=list(DATASETS))
def test_every_dataset_is_complete_and_documented(dataset):
    assert dataset.column_names[0] == dataset.key_column
    assert len(set(dataset.column_names)) == len(dataset.column_names)
    for column in dataset.columns:
        assert column.description, column.name
        # every column is produced by the query
        assert re.search(rf"\bAS {column.name}\b", dataset.select), column.name
    for technical in (
        "_changed_at",
        "_key",
        "_live",
        "_was_published",
        "_company_id",
        "_date",
    ):
        assert f"AS {technical}" in dataset.select
    assert set(dataset.total_columns) <= set(dataset.column_names)
    sql = dataset.ndjson_sql("feed")
    assert all(f"feed.{name}" in sql for name in dataset.column_names)


def test_a_column_name_that_is_not_an_identifier_is_refused():
    with pytest.raises(ValueError, match="plain identifier"):
        Column("amount; DROP TABLE x", "numeric", "")


# -- the simulated warehouse ---------------------------------------------------------


def test_the_warehouse_recounts_what_it_stored_and_counts_a_resent_chunk_once():
    warehouse = BiWarehouse()
    chunk_1 = ndjson(
        {"_op": "upsert", "id": 1, "amount": 10.5, "currency": "EUR", "company": "BE"},
        {"_op": "upsert", "id": 2, "amount": -0.5, "currency": "EUR", "company": "BE"},
    )
    chunk_2 = ndjson({"_op": "delete", "id": 3})
    for chunk_request_ in (
        chunk_request("L1", 1, chunk_1),
        chunk_request("L1", 1, chunk_1),  # re-sent after a timeout
        chunk_request("L1", 2, chunk_2),
    ):
        assert warehouse.handle(chunk_request_)[0] == 200
    totals = [
        {
            "amount": "amount",
            "currency": "EUR",
            "company": "BE",
            "rows": 2,
            "total": "10.0",
        }
    ]
    manifest = manifest_for([chunk_1, chunk_2], totals, rows=2, tombstones=1)
    status, _headers, ack = warehouse.handle(manifest_request("L1", manifest))
    assert status == 200
    assert bi_encoding.compare(manifest, ack) == []
    assert sorted(warehouse.tables["spend"]) == ["1", "2"]


def test_the_warehouse_refuses_a_chunk_that_does_not_match_its_hash():
    warehouse = BiWarehouse()
    status, _headers, body = warehouse.handle(
        chunk_request("L1", 1, ndjson({"_op": "delete", "id": 1}), digest="0" * 64)
    )
    assert status == 400
    assert "SHA-256" in body["error"]


def test_a_warehouse_told_to_acknowledge_later_answers_202():
    warehouse = BiWarehouse(acknowledge="async")
    chunk = ndjson({"_op": "delete", "id": 1})
    warehouse.handle(chunk_request("L1", 1, chunk))
    manifest = manifest_for([chunk], [], rows=0, tombstones=1)
    status, _headers, _body = warehouse.handle(manifest_request("L1", manifest))
    assert status == 202
    assert warehouse.acknowledgements["L1"]["tombstones"] == 1
