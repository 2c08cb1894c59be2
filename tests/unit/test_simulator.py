"""Unit tests of the loopback simulator (no Odoo, no network beyond 127.0.0.1)."""

import json
import time
from pathlib import Path

import pytest
from stdnum import iban as stdnum_iban
from stdnum.be import iban as stdnum_be_iban
from stdnum.be import vat as stdnum_be_vat

from lib import standard_webhooks
from simulator import (
    NonLoopbackError,
    SimulatorClient,
    SimulatorError,
    SimulatorServer,
    WebhookSender,
    belgian_iban,
    shuffled,
    supplier_event,
    supplier_events,
    supplier_update_event,
)
from simulator.cli import main as cli_main

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim():
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def secret():
    return standard_webhooks.generate_secret()


@pytest.fixture
def sender(sim, secret):
    with WebhookSender(sim.url + "/hook", secret, timeout=2) as client:
        yield client


# -- receiver ---------------------------------------------------------------


def test_records_requests_and_answers_default(sim, secret):
    with WebhookSender(sim.url + "/procurement/orders?x=1", secret) as client:
        status, body, headers = client.send({"hello": "world"}, webhook_id="msg_1")
    assert status == 200
    assert body == {"status": "ok", "received": 1}
    assert headers["content-type"] == "application/json"
    (record,) = sim.requests()
    assert record.method == "POST"
    assert record.path == "/procurement/orders"
    assert record.query == "x=1"
    assert record.params == {"x": "1"}
    assert record.headers["webhook-id"] == "msg_1"
    assert record.json() == {"hello": "world"}
    assert record.fault is None
    assert abs(record.received_at - time.time()) < 5


def test_control_api_lists_filters_and_clears(sim, sender):
    sender.send({"n": 1})
    with WebhookSender(sim.url + "/bi/facts", None) as unsigned:
        unsigned.send({"n": 2}, sign=False)
    control = SimulatorClient(sim.url)
    assert control.health() == {"status": "ok"}
    assert [item["path"] for item in control.requests()] == ["/hook", "/bi/facts"]
    (bi_request,) = control.requests(path_prefix="/bi")
    assert json.loads(bi_request["body"]) == {"n": 2}
    assert bi_request["received_at"].endswith("Z")
    assert len(control.requests(since=1)) == 1
    assert control.clear_requests() == 2
    assert control.requests() == []
    assert sim.requests() == []


def test_control_requests_are_not_recorded(sim):
    SimulatorClient(sim.url).faults()
    assert sim.requests() == []


def test_wait_for_requests_times_out(sim):
    with pytest.raises(TimeoutError):
        sim.wait_for_requests(1, timeout=0.05)


# -- faults -----------------------------------------------------------------


def test_status_fault_applies_count_times(sim, sender):
    sim.add_fault(kind="status", status=503, count=2)
    statuses = [sender.send({"n": n})[0] for n in range(3)]
    assert statuses == [503, 503, 200]
    assert [record.fault and record.fault["kind"] for record in sim.requests()] == [
        "status",
        "status",
        None,
    ]
    assert sim.faults()[0]["remaining"] == 0


def test_rate_limit_answers_429_with_retry_after(sim, sender):
    sim.set_faults([{"kind": "rate_limit", "retry_after": 7, "count": 1}])
    status, body, headers = sender.send({"n": 1})
    assert (status, headers["retry-after"], body["fault"]) == (429, "7", "rate_limit")
    assert sender.send({"n": 2})[0] == 200


def test_drop_closes_connection_without_response(sim, sender):
    sim.add_fault(kind="drop", count=1)
    with pytest.raises(ConnectionError):
        sender.send({"n": 1})
    assert sender.send({"n": 2})[0] == 200
    assert [record.fault for record in sim.requests()][0]["kind"] == "drop"


def test_latency_delays_then_answers_normally(sim, sender):
    sim.add_fault(kind="latency", latency_ms=150, count=1)
    started = time.perf_counter()
    status, body, _headers = sender.send({"n": 1})
    assert time.perf_counter() - started >= 0.14
    assert (status, body["status"]) == (200, "ok")


def test_timeout_fault_makes_client_time_out(sim, secret):
    sim.add_fault(kind="timeout", seconds=5, count=1)
    with (
        WebhookSender(sim.url + "/slow", secret, timeout=0.2) as client,
        pytest.raises(TimeoutError),
    ):
        client.send({"n": 1})


def test_first_matching_rule_wins_by_prefix_and_method(sim, secret):
    sim.set_faults(
        [
            {"path_prefix": "/ap", "kind": "status", "status": 500, "count": 1},
            {"path_prefix": "/", "kind": "status", "status": 502, "method": "GET"},
            {"path_prefix": "/", "kind": "status", "status": 504, "count": 1},
        ]
    )
    with WebhookSender(sim.url + "/bi", secret) as bi:
        assert bi.send({})[0] == 504
    with WebhookSender(sim.url + "/ap/invoices", secret) as ap:
        assert [ap.send({})[0] for _ in range(2)] == [500, 200]


def test_fault_api_over_http_validates_and_clears(sim, sender):
    control = SimulatorClient(sim.url)
    rules = control.set_faults([{"kind": "status", "status": 418, "body": "teapot"}])
    assert rules[0]["count"] is None
    assert sender.send({})[:2] == (418, "teapot")
    with pytest.raises(SimulatorError, match="unknown fault kind"):
        control.set_faults([{"kind": "explode"}])
    with pytest.raises(SimulatorError, match="unknown fault rule keys"):
        control.set_faults([{"kind": "status", "statuss": 500}])
    assert control.clear_faults() == 1
    assert sender.send({})[0] == 200


# -- routes and canned responses ---------------------------------------------


def test_canned_response_longest_prefix_and_custom_route(sim, secret):
    control = SimulatorClient(sim.url)
    control.add_response("/cxml", content_type="text/xml", body="<cXML/>")
    control.add_response(
        "/cxml/order", status=201, content_type="text/xml", body="<ok/>"
    )
    sim.add_route(
        "POST", "/bi", lambda request: (202, {"X-Ack": "1"}, {"n": request.seq})
    )
    with WebhookSender(sim.url + "/cxml/setup", secret) as client:
        status, body, headers = client.send("<x/>", content_type="text/xml")
    assert (status, body, headers["content-type"]) == (200, "<cXML/>", "text/xml")
    with WebhookSender(sim.url + "/cxml/order/1", secret) as client:
        assert client.send("<x/>")[:2] == (201, "<ok/>")
    with WebhookSender(sim.url + "/bi/facts", secret) as client:
        status, body, headers = client.send({})
    assert (status, body, headers["x-ack"]) == (202, {"n": 3}, "1")
    assert len(control.responses()) == 2
    assert control.clear_responses() == 2
    with WebhookSender(sim.url + "/cxml", secret) as client:
        assert client.send({})[1]["status"] == "ok"


def test_failing_route_handler_answers_500(sim, sender):
    sim.add_route("*", "/hook", lambda request: 1 / 0)
    status, body, _headers = sender.send({})
    assert status == 500
    assert "ZeroDivisionError" in body["error"]


# -- sender -----------------------------------------------------------------


def test_signature_verifies_with_project_module(sim, sender, secret):
    sender.send_event(supplier_event(1))
    record = sim.requests()[0]
    standard_webhooks.verify([secret], record.headers, record.raw_body)
    assert record.webhook_id.startswith("msg_")
    with pytest.raises(standard_webhooks.SignatureError):
        standard_webhooks.verify([secret], record.headers, record.raw_body + b" ")


def test_unsigned_and_wrong_secret_requests(sim, sender, secret):
    sender.send({}, sign=False)
    sender.send({}, secret_override=standard_webhooks.generate_secret())
    sender.send({}, headers={"webhook-timestamp": "1", "X-Extra": "y"})
    unsigned, wrong_secret, tampered = sim.requests()
    assert "webhook-signature" not in unsigned.headers
    assert unsigned.headers["webhook-id"].startswith("msg_")
    for record in (wrong_secret, tampered):
        with pytest.raises(standard_webhooks.SignatureError):
            standard_webhooks.verify([secret], record.headers, record.raw_body)
    assert tampered.headers["x-extra"] == "y"


def test_duplicate_reuses_webhook_id_and_body(sim, sender, secret):
    sender.send_event(supplier_event(1), webhook_id="msg_dup", timestamp=1)
    sender.send_event(supplier_event(2))
    sender.send_duplicate("msg_dup")
    sender.send_duplicate("msg_dup", fresh_timestamp=False)
    first, _second, retry, replay = sim.requests()
    assert retry.raw_body == first.raw_body
    assert sim.unique_webhook_ids("/hook") == {"msg_dup", _second.webhook_id}
    standard_webhooks.verify([secret], retry.headers, retry.raw_body)
    assert replay.headers["webhook-timestamp"] == "1"
    with pytest.raises(ValueError, match="never sent"):
        sender.send_duplicate("msg_unknown")


def test_batch_body_shape(sim, sender):
    events = supplier_events(3)
    sender.send_batch(events)
    assert sim.requests()[0].json() == {"events": events}


def test_send_many_batches_duplicates_and_shuffle(sim, sender):
    events = supplier_events(20)
    summary = sender.send_many(
        events, batch_size=3, concurrency=4, duplicate_ratio=0.5, shuffle=True, seed=7
    )
    assert summary["requests"] == 7 + 4
    assert summary["status_counts"] == {"200": 11}
    assert summary["ok"] == 11 and summary["errors"] == {}
    assert len(summary["latencies_ms"]) == 11
    records = sim.requests()
    assert len(sim.unique_webhook_ids()) == 7
    delivered = {
        event["id"]: event for record in records for event in record.json()["events"]
    }
    assert sorted(delivered) == sorted(event["id"] for event in events)
    for record in records:
        standard_webhooks.verify([sender.secret], record.headers, record.raw_body)


def test_send_many_counts_errors_and_statuses(sim, sender):
    sim.add_fault(kind="status", status=503, count=1)
    sim.add_fault(kind="drop", count=1)
    summary = sender.send_many(supplier_events(4))
    assert summary["status_counts"] == {"200": 2, "503": 1}
    assert sum(summary["errors"].values()) == 1
    first = [record.json()["id"] for record in sim.requests()]
    assert first == [event["id"] for event in supplier_events(4)]


def test_shuffled_is_seeded():
    items = list(range(50))
    assert shuffled(items, seed=3) == shuffled(items, seed=3)
    assert shuffled(items, seed=3) != items
    assert sorted(shuffled(items, seed=3)) == items


# -- loopback guard -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:8069/hook",
        "http://example.com/hook",
        "http://127.0.0.1.nip.io/hook",
        "http://[2001:db8::1]/hook",
        "http://0.0.0.0:8069/",
        "ftp://127.0.0.1/",
    ],
)
def test_non_loopback_targets_are_refused(url):
    with pytest.raises(NonLoopbackError):
        WebhookSender(url, standard_webhooks.generate_secret())
    with pytest.raises(NonLoopbackError):
        SimulatorClient(url)


@pytest.mark.parametrize(
    "url", ["http://localhost:8069/", "http://127.1.2.3/", "http://[::1]:8069/"]
)
def test_loopback_targets_are_accepted(url):
    WebhookSender(url, standard_webhooks.generate_secret()).close()


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104 - must be refused
        "192.168.1.10",
        "example.com",
        "::",
    ],
)
def test_server_binds_only_to_loopback(host):
    with pytest.raises(NonLoopbackError):
        SimulatorServer(host=host)


def test_cli_refuses_non_loopback(capsys):
    code = cli_main(["send", "--url", "http://10.1.1.1/", "--secret", "whsec_x"])
    assert code == 2
    assert "non-loopback" in capsys.readouterr().err


def test_cli_send_prints_summary(sim, secret, capsys):
    code = cli_main(
        ["send", "--url", sim.url + "/in", "--secret", secret, "--count", "4"]
        + ["--batch", "2", "--duplicates", "0.5", "--start", "10"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert (code, summary["requests"], summary["duplicates"]) == (0, 3, 1)
    assert sim.requests()[0].json()["events"][0]["id"] == "evt-sup-000010-v1"


# -- data generators ----------------------------------------------------------


def test_supplier_event_shape():
    event = supplier_event(1)
    data = event["data"]
    assert event["id"] == "evt-sup-000001-v1"
    assert event["type"] == "supplier.upsert"
    assert event["occurred_at"] == data["updated_at"] == "2026-11-26T06:00:00Z"
    assert data["external_id"] == "SUP-000001"
    assert data["name"] == "Supplier 000001 Ltd"
    assert data["vat"] == "BE" + data["company_registry"]
    assert data["vat"].startswith("BE0") and len(data["vat"]) == 12
    assert data["email"] == "ap+000001@supplier.example"
    assert data["phone"] == "+32 2 555 0001"
    assert data["address"] == {
        "street": "1 Industry Road",
        "street2": "",
        "zip": "1000",
        "city": "Brussels",
        "state_code": "",
        "country_code": "BE",
    }
    assert (data["currency"], data["payment_terms"]) == ("EUR", "30 Days")
    (bank,) = data["bank_accounts"]
    assert bank == {
        "iban": belgian_iban(1),
        "bic": "GKCCBEBB",
        "holder": "Supplier 000001 Ltd",
    }
    assert supplier_event(1) == event


def test_thousand_suppliers_have_valid_unique_ibans_and_vats():
    events = supplier_events(1000)
    ibans = [event["data"]["bank_accounts"][0]["iban"] for event in events]
    vats = [event["data"]["vat"] for event in events]
    assert all(stdnum_be_iban.is_valid(iban) for iban in ibans)
    assert all(iban.startswith("BE") and len(iban) == 16 for iban in ibans)
    assert all(stdnum_be_vat.is_valid(vat) for vat in vats)
    assert len(set(ibans)) == len(set(vats)) == 1000
    assert len({event["id"] for event in events}) == 1000


def test_a_typo_in_a_generated_iban_breaks_its_check_digits():
    iban = belgian_iban(42)
    typo = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    assert stdnum_iban.is_valid(iban) and not stdnum_iban.is_valid(typo)


def test_identifiers_pass_python_stdnum():
    for n in (1, 2, 97, 999_999, 9_999_999):
        data = supplier_event(n)["data"]
        assert stdnum_be_vat.is_valid(data["vat"])
        assert stdnum_be_iban.is_valid(data["bank_accounts"][0]["iban"])


def test_update_event_is_a_later_version():
    first, second = supplier_event(7), supplier_update_event(7, 2)
    assert second["id"] == "evt-sup-000007-v2"
    assert second["data"]["updated_at"] > first["data"]["updated_at"]
    assert second["data"]["phone"] != first["data"]["phone"]
    assert second["data"]["external_id"] == first["data"]["external_id"]
    assert second["data"]["vat"] == first["data"]["vat"]


def test_overrides_and_seed_are_deterministic():
    event = supplier_event(3, name="Renamed", address={"city": "Gent"}, type="x")
    assert (event["type"], event["data"]["name"]) == ("x", "Renamed")
    assert event["data"]["address"]["city"] == "Gent"
    assert event["data"]["address"]["zip"] == "1000"
    assert supplier_event(3, seed=5) == supplier_event(3, seed=5)
    assert supplier_events(2, start=5)[0]["id"] == "evt-sup-000005-v1"
    with pytest.raises(ValueError):
        supplier_event(0)
