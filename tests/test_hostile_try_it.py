"""Hostile samples in the try-it wizard, through the ORM and the mappings:
every sample gives a readable problem or a verbatim preview, never a crash,
and writes nothing."""

import json

from odoo.tests import tagged

from .common import (
    FihTransactionCase,
    supplier_data,
    supplier_event,
)
from .hostile_common import (
    INJECTIONS,
    MB,
    SAMPLES,
    HostileTally,
    nested_json,
)


@tagged("post_install", "-at_install")
class TestHostileTryIt(HostileTally, FihTransactionCase):
    """Hostile samples in the try-it wizard, through the ORM and the mappings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_tally()
        Mapping = cls.env["fih.mapping"]
        cls.platform_mapping = Mapping.browse(
            Mapping._activate_template_for_backend(
                "procurement_platform_v2_supplier.json", cls.backend.id
            )
        )
        cls.scale_mapping = Mapping.create(
            {
                "name": "Hostile: scaled amounts",
                "backend_id": cls.backend.id,
                "object_type": "supplier",
                "rule_ids": [
                    (0, 0, {"source_path": source, "target_path": target, **values})
                    for source, target, values in (
                        ("number", "external_id", {"transform": "trim"}),
                        ("name", "name", {"transform": "trim"}),
                        (
                            "amount",
                            "extensions.amount",
                            {"transform": "scale", "factor": 0.01},
                        ),
                    )
                ],
            }
        )

    @classmethod
    def tearDownClass(cls):
        cls._log_tally()
        super().tearDownClass()

    def counts(self):
        self.env.invalidate_all()
        return (
            self.Partner.with_context(active_test=False).search_count([]),
            self.Message.search_count([]),
        )

    def try_sample(self, sample, mapping=None):
        """Run the wizard; return it. Problems count as clean refusals."""
        self.tally["tried"] += 1
        before = self.counts()
        wizard = self.env["fih.mapping.try.wizard"].create(
            {
                "mapping_id": mapping.id if mapping else False,
                "backend_id": self.backend.id,
                "object_type": "supplier",
                "sample_payload": sample,
            }
        )
        try:
            wizard.action_try()
        except Exception as exc:
            self.tally["crashes"] += 1
            self.fail(f"action_try raised {type(exc).__name__}: {str(exc)[:300]}")
        self.assertEqual(self.counts(), before, "the wizard wrote something")
        if wizard.problems:
            self.tally["rejected"] += 1
            self.assertNotIn("Traceback", wizard.problems)
            self.assertLess(len(wizard.problems), 100_000)
            self.assertFalse(wizard.preview)
        else:
            self.tally["accepted"] += 1
            self.assertTrue(wizard.preview)
        return wizard

    def hostile_samples(self):
        valid = supplier_data(1)
        return {
            "empty": "",
            "blank": "  \n",
            "truncated": json.dumps(valid)[:40],
            "single quotes": json.dumps(valid).replace('"', "'"),
            # a raw NUL cannot even be saved in a Text field (PostgreSQL)
            "escaped NUL": json.dumps("\x00"),
            "not JSON": "<supplier/>",
            "10**5000": "9" * 5000,
            "NaN": "NaN",
            "1e400": json.dumps({**valid, "source_version": "X"}).replace(
                '"X"', "1e400"
            ),
            "a list at the root": json.dumps([valid]),
            "a string at the root": json.dumps("supplier"),
            "null": "null",
            "wrong types": json.dumps({**valid, "name": ["x"], "external_id": 5}),
            "nested objects": json.dumps({**valid, "address": [[["x"]]]}),
            "1 MB name": json.dumps({**valid, "name": "x" * MB}),
            "1 MB e-mail": json.dumps({**valid, "email": "a@" + "x" * MB + ".example"}),
            "nesting 300 deep": json.dumps({**valid, "name": "X"}).replace(
                '"X"', nested_json(300)
            ),
            "unexpected fields": json.dumps({**valid, "x" * 1000: 1, "y": {"z": 1}}),
            "whole event with a list as data": json.dumps(
                {"id": "e", "type": "supplier.upsert", "data": [valid]}
            ),
            "SQL in company_code": json.dumps(
                {**valid, "company_code": "'; DROP TABLE res_company; --"}
            ),
            "SQL in payment_terms": json.dumps(
                {**valid, "payment_terms": "%' OR '1'='1"}
            ),
            "unknown country": json.dumps(
                {**valid, "address": {**valid["address"], "country_code": "XX"}}
            ),
            "unknown currency": json.dumps({**valid, "currency": "XXX"}),
            "invalid IBAN": json.dumps(
                {**valid, "bank_accounts": [{"iban": "BE00" + "9" * 30}]}
            ),
        }

    def test_hostile_samples_give_readable_problems_and_write_nothing(self):
        for label, sample in self.hostile_samples().items():
            with self.subTest(label):
                wizard = self.try_sample(sample)
                self.assertTrue(wizard.problems, f"{label} was accepted")

    def test_hostile_samples_through_mappings(self):
        sample_file = SAMPLES / "procurement_platform_v2_supplier.json"
        platform = json.loads(sample_file.read_text())
        platform.pop("payment-term", None)  # no cross-reference table here
        samples = {
            "valid": (platform, False),
            "a list at the root": ([platform], True),
            "name a list": ({**platform, "name": ["x"]}, True),
            "number an object": ({**platform, "number": {"a": 1}}, True),
            "bank accounts an object": ({**platform, "bank-accounts": {"a": 1}}, True),
            "1 MB name": ({**platform, "name": "x" * MB}, True),
            # source_version is stored as a 32-bit integer: the schema says so
            "version of 400 digits": ({**platform, "version": 10**400}, True),
            "unknown currency": ({**platform, "currency": {"code": "999"}}, True),
            "date in the year 0": ({**platform, "updated-at": "0000-01-01"}, True),
        }
        for label, (sample, refused) in samples.items():
            with self.subTest(label):
                wizard = self.try_sample(json.dumps(sample), self.platform_mapping)
                self.assertEqual(bool(wizard.problems), refused, wizard.problems)
        wizard = self.try_sample(
            json.dumps({"number": "S1", "name": "x", "amount": "12,5x"}),
            self.scale_mapping,
        )
        self.assertIn("amount", wizard.problems)

    def test_hostile_but_valid_names_are_previewed_verbatim(self):
        for n, name in enumerate(INJECTIONS, start=1):
            with self.subTest(name):
                wizard = self.try_sample(json.dumps(supplier_data(n, name=name)))
                self.assertFalse(wizard.problems)
                self.assertIn(f"Create supplier '{name}'", wizard.preview)
                self.assertIn(
                    json.dumps(name, ensure_ascii=False), wizard.canonical_result
                )

    # -- defects found by this suite -------------------------------------------------

    def test_deeply_nested_sample_is_a_problem_not_a_crash(self):
        """Fixed: json.loads raises RecursionError (not a ValueError) for a
        sample nested 10,000 levels deep; wizards/fih_mapping_try_wizard.py
        ``_run`` only catches ValueError, so action_try raises."""
        wizard = self.try_sample(nested_json(10_000))
        self.assertIn("not valid JSON", wizard.problems)

    def test_deep_value_copied_by_a_mapping_is_a_problem_not_a_crash(self):
        """Fixed: the platform mapping copies ``id``; a 600-deep ``id`` makes
        copy.deepcopy raise RecursionError in lib/mapping/transforms.py ``_copy``,
        which is not a MappingError: action_try raises."""
        sample = json.dumps({"number": "S1", "name": "x", "id": "X"}).replace(
            '"X"', nested_json(600)
        )
        wizard = self.try_sample(sample, self.platform_mapping)
        self.assertIn("id", wizard.problems)

    def test_huge_integer_scaled_by_a_mapping_is_a_problem_not_a_crash(self):
        """Fixed: ``scale`` on a 400-digit integer raises OverflowError from
        ``math.isfinite`` (lib/mapping/transforms.py ``_scale``): action_try
        raises instead of listing the problem."""
        sample = json.dumps({"number": "S1", "name": "x", "amount": 10**400})
        wizard = self.try_sample(sample, self.scale_mapping)
        self.assertIn("amount", wizard.problems)

    def test_update_time_out_of_range_is_a_problem_not_a_crash(self):
        """Fixed: for a supplier that already exists, the preview compares
        update times; ``updated_at`` "9999-12-31T23:59:59-23:59" (valid per the
        schema) makes lib/ordering.py parse_timestamp raise OverflowError
        and action_try raises."""
        self.receive(supplier_event(1))
        self.process()
        sample = json.dumps(
            supplier_data(1, updated_at="9999-12-31T23:59:59-23:59", phone="+32 9")
        )
        wizard = self.try_sample(sample)
        self.assertTrue(wizard.problems or wizard.preview)

    def test_nul_in_external_id_is_a_problem_not_a_crash(self):
        """Fixed: an external_id with U+0000 passes the schema; the preview's
        look-up query (fih_supplier_handler._load_context) makes psycopg2
        raise ValueError ("A string literal cannot contain NUL") and
        action_try raises."""
        wizard = self.try_sample(json.dumps(supplier_data(1, external_id="SUP-\u0000")))
        self.assertIn("external_id", wizard.problems)
