from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .bi_common import LOAD, BiPublicationCase
from .test_progress_feedback import ProgressCase, progress_figures
from .test_scheduled_pull import PullCase


@tagged("post_install", "-at_install")
class TestBiLoadProgress(BiPublicationCase):
    """A publication load (a full reload here) shows rows of total, chunks
    and the time left after each accepted chunk."""

    def test_a_full_reload_shows_exact_progress_after_each_chunk(self):
        self.bill([(1, 1.0)] * 250)
        manager = self.env["res.users"].create(
            {
                "name": "Load starter",
                "login": "fih_progress_load_starter",
                "email": "load_starter@example.com",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "groups_id": [
                    Command.set(
                        [self.env.ref("finance_integration_hub.group_fih_manager").id]
                    )
                ],
            }
        )
        publication = self.publication()
        seen = []
        original = type(self.env["fih.bi.load"])._checkpoint

        def checkpoint(load):
            seen.append(
                (
                    load.progress_done,
                    load.progress_total,
                    load.progress_chunks_done,
                    load.progress_chunks_total,
                    load.progress_running,
                )
            )
            return original(load)

        with patch(f"{LOAD}.FihBiLoad._checkpoint", checkpoint):
            with self.trapped_jobs() as trap:
                load = publication.with_user(manager)._start_load("full")
                self.perform_jobs(trap)
        self.assertEqual(load.state, "reconciled", load.error_message)
        # each committed state once (the manifest commits with the last chunk's)
        states = [f for n, f in enumerate(seen) if not n or f != seen[n - 1]]
        chunks = [figures for figures in states if figures[4] and figures[2]]
        self.assertEqual(
            chunks,
            [
                (100, 250, 1, 3, True),
                (200, 250, 2, 3, True),
                (250, 250, 3, 3, True),
            ],
        )
        self.assertIn((0, 250, 0, 3, True), seen)  # the total, before chunk 1
        self.assertEqual(seen[-1][:4], (250, 250, 3, 3))
        self.assertFalse(seen[-1][4])
        self.assertEqual(load.progress_percent, 100.0)
        self.assertTrue(
            load.progress_text.startswith("250 of 250 rows · 3 of 3 chunks · done in")
        )
        # the manager who started it was told after each chunk
        payloads = [
            p
            for p in ProgressCase.bus_progress(self, manager)
            if p["model"] == "fih.bi.load" and p["id"] == load.id
        ]
        self.assertEqual(
            [p["percent"] for p in payloads if p["running"]],
            [0.0, 40.0, 80.0, 100.0],
        )
        self.assertFalse(payloads[-1]["running"])

    def test_a_resumed_load_counts_what_earlier_runs_sent(self):
        self.bill([(1, 1.0)] * 250)
        publication = self.publication()
        original = self.warehouse.handle

        def flaky(request):
            if request.path.endswith("/chunks/2") and flaky.failures < 3:
                flaky.failures += 1
                return 503, {}, {"error": "warehouse is restarting"}
            return original(request)

        flaky.failures = 0
        self.sim.add_route("POST", "/publications/", flaky)
        with self.trapped_jobs() as trap:
            load = publication._start_load("full")
            self.perform_jobs(trap)
        self.assertEqual(load.state, "failed")
        self.assertEqual(progress_figures(load), (100, 250, 1, 3))
        self.assertFalse(load.progress_running)
        with self.trapped_jobs() as trap:
            load._enqueue()
            self.perform_jobs(trap)
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(progress_figures(load), (250, 250, 3, 3))
        self.assertEqual(load.progress_done_before, 100)


@tagged("post_install", "-at_install")
class TestPullProgress(PullCase):
    """A scheduled pull shows documents and pages while it runs."""

    def test_a_pull_counts_documents_and_pages_as_it_goes(self):
        seen = []
        original = type(self.pull)._save_cursor

        def save_cursor(pull, cursor):
            seen.append(pull.progress_done)
            return original(pull, cursor)

        with patch(
            "odoo.addons.finance_integration_hub.models.fih_pull.FihPull._save_cursor",
            save_cursor,
        ):
            with self.trapped_jobs():
                stored = self.pull._run()
        self.assertEqual(stored, 5)
        self.pull.invalidate_recordset()
        # before each page is counted: 0, then 2, then 4 documents
        self.assertEqual(seen, [0, 2, 4])
        self.assertEqual(
            (self.pull.progress_done, self.pull.progress_chunks_done), (5, 3)
        )
        self.assertFalse(self.pull.progress_total_known)
        self.assertFalse(self.pull.progress_running)
        self.assertTrue(
            self.pull.progress_text.startswith("5 documents · 3 pages so far · ")
        )
        self.assertEqual(self.pull.last_stored, 5)

    def test_a_platform_giving_its_total_gets_an_estimate(self):
        original = self.source._list

        def with_total(request):
            status, headers, body = original(request)
            body["total"] = len(
                [
                    d
                    for d in self.source.documents
                    if d["id"] not in self.source.acknowledged
                ]
            )
            return status, headers, body

        route = self.sim.add_route("GET", "/export/suppliers", with_total)
        self.addCleanup(self.sim.remove_route, route)
        with self.trapped_jobs():
            self.pull._run()
        self.pull.invalidate_recordset()
        self.assertEqual(progress_figures(self.pull)[:2], (5, 5))
        self.assertTrue(self.pull.progress_total_known)
        self.assertEqual(self.pull.progress_percent, 100.0)
        self.assertTrue(
            self.pull.progress_text.startswith("5 of 5 documents · 3 pages")
        )

    def test_a_manager_cannot_write_a_pulls_progress(self):
        manager = self.env["res.users"].create(
            {
                "name": "Pull manager",
                "login": "fih_progress_pull_manager",
                "company_id": self.backend.company_id.id,
                "company_ids": [Command.set(self.backend.company_id.ids)],
                "groups_id": [
                    Command.set(
                        [self.env.ref("finance_integration_hub.group_fih_manager").id]
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            self.pull.with_user(manager).write({"progress_done": 99})
        self.assertEqual(self.pull.progress_done, 0)
