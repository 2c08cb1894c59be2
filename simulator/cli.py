"""Command line: ``python -m simulator {serve,send,demo}`` (see README.md)."""

import argparse
import json
import os
import signal
import sys
import urllib.error
import urllib.request

from .bi_warehouse import BiWarehouse
from .generators import procurement_supplier, supplier_event, supplier_events
from .loopback import NonLoopbackError, ensure_loopback_url
from .p2p_documents import (
    cxml_invoice,
    cxml_order_request,
    cxml_receipt,
    invoice_event,
    order_event,
    payment_event,
    receipt_event,
    ubl_invoice,
)
from .sender import WebhookSender
from .server import SimulatorServer

SECRET_ENV = "SIMULATOR_WEBHOOK_SECRET"  # noqa: S105 - a variable name


def _print_request(record):
    fault = f" fault={record.fault['kind']}" if record.fault else ""
    print(
        f"#{record.seq} {record.method} {record.path}"
        f"{'?' + record.query if record.query else ''} "
        f"{len(record.raw_body)}B{fault}",
        flush=True,
    )


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def cmd_serve(args):
    server = SimulatorServer(
        host=args.host,
        port=args.port,
        on_request=None if args.quiet else _print_request,
    )
    # the reporting platform's side of BI publications
    BiWarehouse().attach(server)
    server.start()
    print(f"simulator listening on {server.url} (control API under /_sim/)", flush=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("simulator stopped", flush=True)
    return 0


def _all_ok(statuses):
    return all(200 <= status < 300 for status in statuses)


def _events(args):
    """Suppliers in the canonical shape, or as the procurement platform v2
    sends them (for a backend that reads them through a mapping)."""
    if args.shape == "canonical":
        return supplier_events(args.count, start=args.start)
    return [
        {
            "id": f"proc-sup-{n:06d}-v1",
            "type": "supplier.upsert",
            "data": procurement_supplier(n),
        }
        for n in range(args.start, args.start + args.count)
    ]


def cmd_send(args):
    events = _events(args)
    with WebhookSender(args.url, args.secret, timeout=args.timeout) as sender:
        summary = sender.send_many(
            events,
            batch_size=args.batch,
            concurrency=args.concurrency,
            duplicate_ratio=args.duplicates,
            shuffle=args.shuffle,
            seed=args.seed,
        )
    if not args.latencies:
        summary.pop("latencies_ms")
    print(json.dumps(summary, indent=2))
    statuses = [int(status) for status in summary["status_counts"]]
    return 0 if _all_ok(statuses) and not summary["errors"] else 1


def cmd_demo(args):
    statuses = []
    with WebhookSender(args.url, args.secret, timeout=args.timeout) as sender:

        def show(label, response):
            status, body, _headers = response
            statuses.append(status)
            text = body if isinstance(body, str) else json.dumps(body)
            print(f"{label}: {status} {text}", flush=True)

        for n in range(1, 6):
            event = supplier_event(n)
            show(f"event {event['id']}", sender.send_event(event))
        first_webhook_id = sender.sent_webhook_ids[0]
        batch = supplier_events(5, start=6)
        show(f"batch {batch[0]['id']}..{batch[-1]['id']}", sender.send_batch(batch))
        show(
            f"duplicate of {first_webhook_id}", sender.send_duplicate(first_webhook_id)
        )
    return 0 if _all_ok(statuses) else 1


def _post_xml(url, body, timeout):
    ensure_loopback_url(url)  # http(s) to loopback only
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Content-Type": "text/xml"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def cmd_p2p(args):
    """Supplier, order, receipt, bill and payment: the whole cycle, with the
    order, receipt and bill in the chosen format."""
    n, currency = args.number, args.currency
    supplier_id, order_id = f"SUP-{n:06d}", f"PO-{n:06d}"
    order_lines = [(1, "PAPER", "Copy paper A4", 10, 4.0, args.tax)]
    invoice_lines = [(1, 1, 10, 4.0, args.tax)]
    total = round(40.0 * (1 + args.tax / 100), 2)
    results = []

    def show(label, status, text):
        results.append(status)
        print(f"{label}: {status} {str(text)[:200]}", flush=True)

    with WebhookSender(args.url, args.secret, timeout=args.timeout) as sender:

        def send(label, event):
            status, body, _headers = sender.send_event(event)
            show(label, status, body)

        send("supplier", supplier_event(n))
        if args.format == "cxml":
            secret = args.shared_secret
            show(
                "order (cXML)",
                *_post_xml(
                    args.cxml_url,
                    cxml_order_request(
                        order_id,
                        supplier_id,
                        order_lines,
                        currency=currency,
                        shared_secret=secret,
                        deployment_mode=args.deployment_mode,
                    ),
                    args.timeout,
                ),
            )
            show(
                "receipt (cXML)",
                *_post_xml(
                    args.cxml_url,
                    cxml_receipt(
                        f"GR-{n:06d}",
                        order_id,
                        [(1, 10)],
                        shared_secret=secret,
                        deployment_mode=args.deployment_mode,
                    ),
                    args.timeout,
                ),
            )
            show(
                "invoice (cXML)",
                *_post_xml(
                    args.cxml_url,
                    cxml_invoice(
                        f"INV-{n:06d}",
                        order_id,
                        supplier_id,
                        invoice_lines,
                        currency=currency,
                        shared_secret=secret,
                        deployment_mode=args.deployment_mode,
                    ),
                    args.timeout,
                ),
            )
        else:
            send(
                "order",
                order_event(order_id, supplier_id, order_lines, currency=currency),
            )
            send("receipt", receipt_event(f"GR-{n:06d}", order_id, [(1, 10)]))
            if args.format == "ubl":
                with WebhookSender(
                    args.ubl_url, args.secret, timeout=args.timeout
                ) as ubl:
                    document = ubl_invoice(
                        f"INV-{n:06d}",
                        order_id,
                        f"0{n:09d}",
                        [(1, "1", 10, 4.0, args.tax)],
                        currency=currency,
                    )
                    status, body, _headers = ubl.send(
                        document, content_type="application/xml"
                    )
                    show("invoice (UBL)", status, body)
            else:
                send(
                    "invoice",
                    invoice_event(
                        f"INV-{n:06d}",
                        order_id,
                        supplier_id,
                        invoice_lines,
                        currency=currency,
                    ),
                )
        invoice_id = (
            f"0208:0{n:09d}/invoice/INV-{n:06d}"
            if args.format == "ubl"
            else f"{supplier_id}/INV-{n:06d}"
        )
        payment = payment_event(
            f"PAY-{n:06d}", supplier_id, [(invoice_id, total)], currency=currency
        )
        if args.ap_url:  # supplier payments come from an AP-automation backend
            with WebhookSender(args.ap_url, args.secret, timeout=args.timeout) as ap:
                show("payment", *ap.send_event(payment)[:2])
        else:
            send("payment", payment)
    return 0 if _all_ok(results) else 1


def _add_target_arguments(parser):
    parser.add_argument("--url", required=True, help="loopback webhook URL of Odoo")
    parser.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV),
        required=SECRET_ENV not in os.environ,
        help=f"whsec_... signing secret (default: ${SECRET_ENV})",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Loopback stand-in for the external systems around the hub.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the receiver in the foreground")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address")
    serve.add_argument("--port", type=int, default=8071)
    serve.add_argument("--quiet", action="store_true", help="do not log requests")
    serve.set_defaults(handler=cmd_serve)

    send = commands.add_parser("send", help="push signed supplier events")
    _add_target_arguments(send)
    send.add_argument("--count", type=int, default=10)
    send.add_argument("--batch", type=int, default=1, help="events per request")
    send.add_argument("--concurrency", type=int, default=1, help="sending threads")
    send.add_argument(
        "--duplicates", type=float, default=0.0, help="share of requests re-sent"
    )
    send.add_argument("--shuffle", action="store_true", help="out-of-order delivery")
    send.add_argument("--seed", type=int, default=0, help="seed for shuffle/duplicates")
    send.add_argument("--start", type=int, default=1, help="first supplier number")
    send.add_argument(
        "--shape",
        choices=("canonical", "procurement-v2"),
        default="canonical",
        help="payload shape: canonical, or the procurement platform's API v2",
    )
    send.add_argument(
        "--latencies", action="store_true", help="include every latency in the output"
    )
    send.set_defaults(handler=cmd_send)

    demo = commands.add_parser("demo", help="5 suppliers, a batch of 5, a duplicate")
    _add_target_arguments(demo)
    demo.set_defaults(handler=cmd_demo)

    p2p = commands.add_parser(
        "p2p", help="supplier, order, receipt, bill and payment in one format"
    )
    _add_target_arguments(p2p)
    p2p.add_argument("--format", choices=("json", "cxml", "ubl"), default="json")
    p2p.add_argument("--number", type=int, default=1, help="supplier and order number")
    p2p.add_argument("--currency", default="USD", help="the company's currency")
    p2p.add_argument("--tax", type=int, default=15, help="purchase tax percentage")
    p2p.add_argument("--cxml-url", help="/finance_hub/cxml/<backend> (cxml format)")
    p2p.add_argument("--shared-secret", help="the backend's cXML shared secret")
    p2p.add_argument(
        "--deployment-mode",
        choices=("test", "production"),
        default="test",
        help="cXML deploymentMode: production for a backend marked Production, "
        "which refuses test documents (default: test)",
    )
    p2p.add_argument("--ubl-url", help="/finance_hub/ubl/<backend> (ubl format)")
    p2p.add_argument(
        "--ap-url",
        help="webhook URL of the AP-automation backend that sends the payment "
        "(default: --url); only such a backend may register supplier payments",
    )
    p2p.set_defaults(handler=cmd_p2p)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (NonLoopbackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot reach the target: {exc}", file=sys.stderr)
        return 1
