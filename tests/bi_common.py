import json
import secrets
import unittest
from datetime import timedelta
from unittest.mock import patch

import psycopg2
from psycopg2.sql import SQL, Identifier

from odoo import Command, fields
from odoo.tools import config

from ..simulator import BiWarehouse
from .common import FihTransactionCase

LOAD = "odoo.addons.finance_integration_hub.models.fih_bi_load"
MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


class BiPublicationCase(FihTransactionCase):
    """Set-up shared by the publication tests: a simulated reporting
    platform on 127.0.0.1, a BI backend, posted bills and a publication."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.bi, cls.bi_secret = cls._setup_other_backend(
            code="test-bi",
            kind="bi",
            base_url=cls.sim.url,
            private_host_allowlist="127.0.0.1",
            retry_base_seconds=1,
        )
        cls.company = cls.env.company
        cls.supplier = cls.Partner.create({"name": "Acme Supplies", "supplier_rank": 1})
        cls.other_supplier = cls.Partner.create(
            {"name": "Globex", "supplier_rank": 1, "vat": "BE0477472701"}
        )
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.env["res.currency.rate"].create(
            {
                "currency_id": cls.usd.id,
                "name": "2026-01-01",
                "rate": 1.25,
                "company_id": cls.company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.warehouse = BiWarehouse().attach(self.sim)
        self.pause = patch(f"{LOAD}.CHUNK_PAUSE_SECONDS", (0, 0))
        self.pause.start()
        self.addCleanup(self.pause.stop)

    # -- helpers ------------------------------------------------------------

    def publication(self, **values):
        return self.env["fih.bi.publication"].create(
            {
                "name": "Spend to the warehouse",
                "code": "spend",
                "backend_id": self.bi.id,
                "dataset": "spend",
                "schedule": "manual",
                "chunk_size": 100,
                **values,
            }
        )

    def bill(self, lines, partner=None, move_type="in_invoice", post=True, **values):
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": (partner or self.supplier).id,
                "invoice_date": values.pop("invoice_date", "2026-10-15"),
                "date": values.pop("date", "2026-10-15"),
                "invoice_line_ids": [
                    Command.create(
                        {"name": f"Line {n}", "quantity": qty, "price_unit": price}
                    )
                    for n, (qty, price) in enumerate(lines)
                ],
                **values,
            }
        )
        if post:
            move.action_post()
        return move

    def stamp(self, moves, minutes_ago):
        """Give changes the time they would have had.

        Odoo stamps a change with the start of its transaction, and a test is
        one transaction: this moves the stamps of ``moves`` (and lines), or of
        recorded deletions when ``moves`` is None, to ``minutes_ago``.
        """
        self.env.flush_all()
        stamp = fields.Datetime.now() - timedelta(minutes=minutes_ago)
        if moves is None:
            self.env.cr.execute("UPDATE fih_bi_deletion SET deleted_at = %s", (stamp,))
            return
        ids = tuple(moves.ids)
        self.env.cr.execute(
            "UPDATE account_move SET write_date = %s WHERE id IN %s", (stamp, ids)
        )
        self.env.cr.execute(
            "UPDATE account_move_line SET write_date = %s WHERE move_id IN %s",
            (stamp, ids),
        )
        self.env.invalidate_all()

    def ago(self, **delta):
        return fields.Datetime.now() - timedelta(**delta)

    def run_load(self, publication, mode=None, period=None):
        """Start a load and run its job the way the queue would."""
        with self.trapped_jobs() as trap:
            if mode:
                load = publication._start_load(mode, period=period)
            else:
                publication.action_publish_now()
                load = publication.load_ids[:1]
            self.perform_jobs(trap)
        return load

    def ledger_spend(self, company_currency=True):
        """The ledger's own figures for posted vendor bill product lines."""
        groups = self.env["account.move.line"]._read_group(
            [
                ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                ("parent_state", "=", "posted"),
                ("display_type", "=", "product"),
                ("company_id", "=", self.company.id),
            ],
            ["currency_id"] if not company_currency else [],
            ["balance:sum", "amount_currency:sum", "__count"],
        )
        return groups

    def totals(self, load, amount):
        return {
            item["currency"]: item["total"]
            for item in json.loads(load.totals_json)
            if item["amount"] == amount
        }


class WorkerKilled(BaseException):
    """A worker killed mid-load: not an error the load can catch."""


class WarehouseCase(BiPublicationCase):
    """A real second PostgreSQL database on the same cluster, reached over
    TCP with a login and password of its own, as a warehouse would be;
    created for the test class and dropped afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        suffix = secrets.token_hex(4)
        cls.wh_name = f"fih_test_wh_{suffix}"
        cls.wh_user = f"fih_test_wh_{suffix}"
        cls.wh_password = secrets.token_urlsafe(16)
        cls.wh_port = int(config.get("db_port") or 5432)
        try:
            admin = psycopg2.connect(
                dbname="postgres",
                host=config.get("db_host") or None,
                port=cls.wh_port,
                user=config.get("db_user") or None,
                password=config.get("db_password") or None,
            )
            admin.autocommit = True
            cls.addClassCleanup(cls._drop_warehouse, admin)
            with admin.cursor() as cr:
                cr.execute(
                    SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(
                        Identifier(cls.wh_user)
                    ),
                    (cls.wh_password,),
                )
                cr.execute(
                    SQL("CREATE DATABASE {} OWNER {}").format(
                        Identifier(cls.wh_name), Identifier(cls.wh_user)
                    )
                )
        except psycopg2.Error as exc:
            raise unittest.SkipTest(
                "A second PostgreSQL database (the warehouse) cannot be created "
                f"on this cluster: {exc}".strip()
            ) from None

    @classmethod
    def _drop_warehouse(cls, admin):
        with admin.cursor() as cr:
            cr.execute(
                SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    Identifier(cls.wh_name)
                )
            )
            cr.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(cls.wh_user)))
        admin.close()

    def setUp(self):
        super().setUp()
        self.wh = psycopg2.connect(
            host="127.0.0.1",
            port=self.wh_port,
            dbname=self.wh_name,
            user=self.wh_user,
            password=self.wh_password,
        )
        self.wh.autocommit = True
        self.addCleanup(self.wh.close)
        # every test starts from an empty warehouse
        self.addCleanup(self._empty_warehouse)

    def _empty_warehouse(self):
        with self.wh.cursor() as cr:
            cr.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'fih\\_%%'")
            for (schema,) in cr.fetchall():
                cr.execute(SQL("DROP SCHEMA {} CASCADE").format(Identifier(schema)))

    def dsn(self, **overrides):
        parts = {
            "host": "127.0.0.1",
            "port": self.wh_port,
            "dbname": self.wh_name,
            "user": self.wh_user,
            "password": self.wh_password,
            **overrides,
        }
        return " ".join(f"{key}={value}" for key, value in parts.items())

    def warehouse_publication(self, **values):
        publication = self.publication(
            sink="postgres", warehouse_sslmode="disable", **values
        )
        publication.warehouse_dsn = self.dsn()
        return publication

    def query(self, statement, params=None):
        with self.wh.cursor() as cr:
            cr.execute(statement, params)
            return cr.fetchall()
