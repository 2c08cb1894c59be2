import json
import os
from contextlib import contextmanager

from cryptography.fernet import Fernet

from odoo.tests.common import TransactionCase

from odoo.addons.queue_job.tests.common import trap_jobs

from ..lib import safe_xml, standard_webhooks
from ..simulator import SimulatorServer


def run_drain_job(backend, direction="inbound"):
    """Run a backend's drain job the way the queue would: as its service
    user, in its company."""
    Message = (
        backend.env["fih.message"]
        .with_user(backend.service_user_id)
        .with_company(backend.company_id)
    )
    if direction == "outbound":
        return Message._deliver_outbound_messages(backend)
    return Message._process_inbound_messages(backend)


def supplier_data(n, **overrides):
    """Canonical supplier number ``n`` with a valid, unique IBAN and VAT."""
    bban = f"{n:012d}"
    check = 98 - int(f"{bban}111400") % 97  # 'BE' -> 1114, '00' placeholder
    data = {
        "external_id": f"SUP-{n:06d}",
        "name": f"Supplier {n:06d} Ltd",
        "vat": f"BE0{n:09d}",
        "company_registry": f"0{n:09d}",
        "email": f"ap+{n}@supplier.example",
        "phone": f"+32 2 555 {n:04d}",
        "address": {
            "street": "1 Industry Road",
            "zip": "1000",
            "city": "Brussels",
            "country_code": "BE",
        },
        "currency": "EUR",
        "bank_accounts": [{"iban": f"BE{check:02d}{bban}", "holder": "Supplier"}],
    }
    data.update(overrides)
    return data


def supplier_event(n, version=1, **overrides):
    return {
        "id": f"evt-sup-{n:06d}-v{version}",
        "type": "supplier.upsert",
        "occurred_at": "2026-11-26T06:00:00Z",
        "data": supplier_data(n, **overrides),
    }


class MasterKeyMixin:
    """Give the test run a master key unless the environment has one."""

    @classmethod
    def _setup_master_key(cls):
        if not os.environ.get("FIH_MASTER_KEY"):
            os.environ["FIH_MASTER_KEY"] = Fernet.generate_key().decode()
            cls.addClassCleanup(os.environ.pop, "FIH_MASTER_KEY", None)


class BackendMixin(MasterKeyMixin):
    @classmethod
    def _setup_backend(cls, code="test-procurement", **values):
        cls._setup_master_key()
        cls.secret = standard_webhooks.generate_secret()
        backend = cls.env["fih.backend"].create(
            {
                "name": "Test procurement platform",
                "code": code,
                "kind": "procurement",
                "retry_base_seconds": 10,
                "retry_max_attempts": 3,
                **values,
            }
        )
        backend.webhook_secret = cls.secret
        return backend

    @classmethod
    def _setup_other_backend(cls, **values):
        """Another backend with its own signing secret: ``(backend, secret)``;
        ``cls.secret`` stays the first backend's."""
        kept = cls.secret
        backend = cls._setup_backend(**values)
        secret, cls.secret = cls.secret, kept
        return backend, secret

    @classmethod
    def _start_simulator(cls):
        """The repository's simulator on 127.0.0.1, stopped with the class."""
        sim = SimulatorServer()
        sim.start()
        cls.addClassCleanup(sim.stop)
        return sim

    def signed(self, payload, secret=None, webhook_id=None, timestamp=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = standard_webhooks.sign(
            secret or self.secret,
            webhook_id or f"msg_{abs(hash(body))}",
            body,
            timestamp=timestamp,
        )
        headers["content-type"] = "application/json"
        return body, headers


# the cXML shared secrets of the procure-to-pay tests' two backends
CXML_BUYER_SECRET = "buyer-secret-Kx7pQ2vZ"  # noqa: S105 - test fixture
CXML_SUPPLIER_SECRET = "supplier-secret-Kx7pQ2vZ"  # noqa: S105 - test fixture


class ProcureToPayMixin:
    """The fixtures of the procure-to-pay tests: an AP tool beside the
    procurement backend, a stocked product PAPER billed on receipt and a
    cost centre CC100."""

    @classmethod
    def _setup_ap_backend(cls, **values):
        """An AP-automation backend with its own signing secret
        (``cls.ap_secret``); ``cls.secret`` stays the procurement backend's."""
        cls.ap, cls.ap_secret = cls._setup_other_backend(
            code="test-ap", kind="ap_automation", **values
        )
        return cls.ap

    @classmethod
    def _setup_cxml_trading(
        cls,
        buyer_secret=None,
        supplier_secret=None,
        environment=None,
        **ap_values,
    ):
        """Both backends speaking cXML (their shared secrets, and
        ``environment`` when given), the AP tool beside the procurement
        backend (``ap_values`` for it only), the product PAPER the cXML tests
        order, and ``cls.currency``, the company's currency code."""
        both = {"environment": environment} if environment else {}
        cls.backend.write(
            {"cxml_shared_secret": buyer_secret or CXML_BUYER_SECRET, **both}
        )
        cls._setup_ap_backend(**ap_values)
        cls.ap.write(
            {"cxml_shared_secret": supplier_secret or CXML_SUPPLIER_SECRET, **both}
        )
        cls.env["product.product"].create(
            {
                "name": "Paper A4",
                "default_code": "PAPER",
                "type": "consu",
                "is_storable": True,
            }
        )
        cls.currency = cls.env.company.currency_id.name

    @classmethod
    def _setup_paper_and_cost_centre(cls):
        cls.paper = cls.env["product.product"].create(
            {
                "name": "Paper A4",
                "default_code": "PAPER",
                "type": "consu",
                "is_storable": True,
                "purchase_method": "receive",
            }
        )
        plan = cls.env["account.analytic.plan"].create({"name": "Cost centres"})
        cls.marketing = cls.env["account.analytic.account"].create(
            {"name": "Marketing", "code": "CC100", "plan_id": plan.id}
        )


class FihTransactionCase(BackendMixin, ProcureToPayMixin, TransactionCase):
    """Engine tests: ``registry.cursor()`` must join the test transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.backend = cls._setup_backend()
        cls.Message = cls.env["fih.message"]
        cls.Partner = cls.env["res.partner"]

    def receive(self, payload, **sign_kwargs):
        return self.receive_on(self.backend, payload, **sign_kwargs)

    @classmethod
    def _purchase_tax(cls, percent, name=None, **values):
        """A purchase tax of ``percent`` of the company (a copy of its 15 %
        purchase tax), named "<percent>% purchases" unless ``name`` says."""
        standard = cls.env["account.tax"].search(
            [
                ("type_tax_use", "=", "purchase"),
                ("amount", "=", 15),
                ("company_id", "=", cls.env.company.id),
            ],
            limit=1,
        )
        return standard.copy(
            {"name": name or f"{percent}% purchases", "amount": percent, **values}
        )

    def bill_of(self, body):
        """The bill an e-invoice ``body`` sent to the AP backend became, once
        processed (its message done): the supplier's latest move."""
        result = self.post_ubl(body)
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(self.ap)
        self.env.invalidate_all()
        message = self.Message.browse(result.payload["message_id"])
        self.assertEqual(message.state, "done", message.error_message)
        return self.env["account.move"].search(
            [("partner_id", "=", self.supplier.id)], order="id desc", limit=1
        )

    def post_ubl(self, body, secret=None, content_type="application/xml"):
        """An e-invoice (UBL or CII) to the AP backend's UBL intake."""
        return self.receive_on(
            self.ap,
            body,
            intake="fih.ubl.intake",
            secret=secret or self.ap_secret,
            content_type=content_type,
        )

    def receive_on(self, backend, payload, intake="fih.webhook.intake", **sign_kwargs):
        """A signed request to ``backend`` through ``intake`` (not processed);
        ``sign_kwargs`` as :meth:`signed` (``secret``, ``content_type``...)."""
        content_type = sign_kwargs.pop("content_type", None)
        body, headers = self.signed(payload, **sign_kwargs)
        if content_type:
            headers["content-type"] = content_type
        result = self.env[intake]._receive(
            backend.code,
            headers,
            lambda limit: body[:limit],
            headers["content-type"],
            len(body),
        )
        self.env.invalidate_all()
        return result

    def deliver(self, backend, event, secret):
        """A signed event to ``backend``, accepted (202) and processed: its
        message."""
        result = self.receive_on(backend, event, secret=secret)
        self.assertEqual(result.status, 202, result.payload)
        run_drain_job(backend)
        self.env.invalidate_all()
        return self.env["fih.message"].browse(result.payload["message_id"])

    def post_cxml(self, body, backend=None):
        """POST a cXML document to ``backend``: (cXML status, its text)."""
        result = self.env["fih.cxml.intake"]._receive(
            (backend or self.backend).code, lambda: body, len(body)
        )
        self.env.invalidate_all()
        status = safe_xml.parse(result.body).find("Response/Status")
        self.assertEqual(int(status.get("code")), result.status)
        return result.status, status.text or ""

    def bound(self, object_type, external_id, model):
        """The record a binding of ``object_type`` names ``external_id``."""
        binding = self.env["fih.binding"].search(
            [("object_type", "=", object_type), ("external_id", "=", external_id)],
            limit=1,
        )
        return self.env[model].browse(binding.res_id)

    def process(self):
        """Run the drain job the way the queue would: as the service user."""
        run_drain_job(self.backend)
        self.env.invalidate_all()

    def messages(self, **domain):
        return self.Message.search(
            [("backend_id", "=", self.backend.id)]
            + [(key, "=", value) for key, value in domain.items()]
        )

    def partners_by_external_id(self, external_id):
        binding = self.env["fih.binding"].search(
            [("backend_id", "=", self.backend.id), ("external_id", "=", external_id)]
        )
        return self.Partner.browse(binding.res_id) if binding else self.Partner

    @contextmanager
    def trapped_jobs(self):
        with trap_jobs() as trap:
            yield trap

    def perform_jobs(self, trap):
        """Run trapped jobs on the test cursor.

        Jobs enqueued during intake keep the environment of the intake's own
        (now closed) cursor; the job runner would load them afresh instead.
        """
        for job in trap.enqueued_jobs:
            env = job.recordset.env
            job.recordset = job.recordset.with_env(
                self.env(user=env.uid, context=env.context)
            )
        trap.perform_enqueued_jobs()
        self.env.invalidate_all()
