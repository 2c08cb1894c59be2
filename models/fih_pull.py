import json
import logging
import uuid

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import read_committed_cursor
from .fih_http_client import MAX_RESPONSE_BYTES
from .fih_progress_mixin import PROGRESS_FIELDS
from .fih_sor_rule import OBJECT_TYPES

_logger = logging.getLogger(__name__)
MAX_PAGES_PER_RUN = 100  # a run ends; the next one continues from the cursor


class PullStopped(Exception):
    """The platform could not be read; the reason is for the finance admin."""


class FihPull(models.Model):
    """A scheduled pull, for platforms that do not push: list what is not yet
    exported, store it in the exchange log, then acknowledge it.

    The acknowledgement is only sent once the documents are committed, and
    the log's unique key makes a document listed again (after a crash between
    storing and acknowledging) a duplicate that is not stored twice.
    """

    _name = "fih.pull"
    _inherit = [
        "fih.own.cron.mixin",
        "fih.company.locked.mixin",
        "fih.governed.mixin",
        "fih.progress.mixin",
    ]
    # where the next run continues, and how the last went: written by runs only
    _fih_action_fields = frozenset(
        {"cursor", "last_run_at", "last_stored", "last_error"} | PROGRESS_FIELDS
    )
    _fih_progress_unit = "documents"
    _description = "Scheduled pull from a platform"
    _order = "backend_id, object_type"
    _cron_fields = frozenset({"active", "interval_minutes"})

    backend_id = fields.Many2one(
        "fih.backend", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    object_type = fields.Selection(
        [item for item in OBJECT_TYPES if item[0] != "cost_center"],
        required=True,
        help="What the listed documents are; they are applied by the same flow "
        "as pushed events of that type.",
    )
    active = fields.Boolean(default=True)
    list_path = fields.Char(
        required=True,
        help="GET <base URL><path>?cursor=..&limit=.. answers "
        '{"documents": [{"id", "data", "updated_at"}], "next_cursor", "has_more"}, '
        'and optionally "total" (documents still to export, this page included) '
        "for an estimate of the time left.",
    )
    ack_path = fields.Char(
        required=True,
        help='POST <base URL><path> with {"ids": [...]} marks documents as exported.',
    )
    page_size = fields.Integer(default=100, required=True)
    interval_minutes = fields.Integer(default=15, required=True)
    cursor = fields.Char(
        readonly=True,
        copy=False,
        help="Where the next run continues; kept between runs.",
    )
    last_run_at = fields.Datetime(readonly=True)
    last_stored = fields.Integer(readonly=True, string="Documents stored last run")
    last_error = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "backend_object_unique",
            "unique(backend_id, object_type)",
            "This backend already has a pull for this kind of document.",
        ),
    ]

    def _cron_schedule(self):
        name = self.env._(
            "Pull %(object)s from %(backend)s",
            object=self.object_type,
            backend=self.backend_id.name,
        )
        return (name, "_run", max(self.interval_minutes, 1), "minutes")

    def action_run_now(self):
        # it calls the platform and acknowledges documents: managers only
        self.check_access("write")
        for pull in self:
            # whoever presses the button, the run is the pull's company's
            pull.with_company(pull.company_id).with_context(
                allowed_company_ids=pull.company_id.ids
            )._run()
        return True

    # -- the run ------------------------------------------------------------------

    def _run(self):
        """Read pages until the platform has nothing more (or the run's page
        budget is spent); store, commit, acknowledge, then move the cursor.

        The run's transaction stays open while it runs: its progress and its
        outcome are written through short cursors of their own, committed at
        once (so they show while it runs, and the run never writes the row a
        short cursor has changed)."""
        self.ensure_one()
        backend = self.backend_id.sudo()
        stored = listed = 0
        self._progress_start(user=self.env.user, own_cursor=True)
        try:
            for _page in range(MAX_PAGES_PER_RUN):
                if not self.env["fih.delivery"]._take_outbound_token(backend):
                    break  # the rate limit: the next run continues
                page = self._fetch(backend)
                documents = page.get("documents") or []
                stored += self._store(backend, documents)
                if documents:
                    if not self.env["fih.delivery"]._take_outbound_token(backend):
                        break  # stored, not acknowledged: listed again, deduplicated
                    self._acknowledge(backend, [str(doc["id"]) for doc in documents])
                self._save_cursor(page.get("next_cursor"))
                self._progress_advance(
                    len(documents),
                    total=_run_total(listed, page),
                    own_cursor=True,
                )
                listed += len(documents)
                if not page.get("has_more"):
                    break
            error = False
        except PullStopped as exc:
            error = str(exc)
        self._save_outcome(stored, error)
        return stored

    def _save_outcome(self, stored, error):
        values = {
            "last_run_at": fields.Datetime.now(),
            "last_stored": stored,
            "last_error": error,
        }
        with read_committed_cursor(self.env.registry) as cr:
            pull = self.with_env(self.env(cr=cr))
            pull.sudo().write(values)
            pull.env.flush_all()  # before commit: nothing else keeps the env
        self.invalidate_recordset(list(values))
        summary = self.env._(
            "%(count)s new documents stored from %(backend)s.",
            count=stored,
            backend=self.backend_id.name,
        )
        self._progress_finish(
            own_cursor=True, summary=error or summary, stopped=bool(error)
        )

    def _call(self, backend, method, path, body=None, params=None, afterwards=""):
        """Call the platform; any failure stops the run with a readable reason
        (``afterwards`` says what happens next)."""
        Client = self.env["fih.http.client"]
        refusal = Client._refusal(backend)
        if refusal:
            raise PullStopped(refusal)
        url = Client._url(backend, path)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        reply = Client._call(
            backend,
            method,
            url,
            headers,
            body,
            params=params,
            max_bytes=MAX_RESPONSE_BYTES + 1,
        )
        if reply.error:
            raise PullStopped(
                self.env._(
                    "%(url)s could not be reached (%(error)s).%(afterwards)s",
                    url=url,
                    error=reply.error,
                    afterwards=afterwards,
                )
            )
        if reply.status is None:
            raise PullStopped(reply.outcome.reason)
        if reply.status >= 300:
            raise PullStopped(
                self.env._(
                    "%(url)s answered HTTP %(status)s.%(afterwards)s",
                    url=url,
                    status=reply.status,
                    afterwards=afterwards,
                )
            )
        if len(reply.content) > MAX_RESPONSE_BYTES:
            raise PullStopped(self.env._("The page is too large; lower the page size."))
        return reply.content

    def _fetch(self, backend):
        params = {"limit": self.page_size}
        if self.cursor:
            params["cursor"] = self.cursor
        content = self._call(backend, "GET", self.list_path, params=params)
        try:
            page = json.loads(content)
            documents = page["documents"]
            for document in documents:
                if (
                    not isinstance(document, dict)
                    or "id" not in document
                    or not (isinstance(document.get("data"), dict))
                ):
                    raise ValueError("a document has no id or data")
        except (ValueError, KeyError, TypeError) as exc:
            raise PullStopped(self.env._("The list is not readable: %s", exc)) from None
        return page

    def _store(self, backend, documents):
        """Store the page in its own committed transaction; return how many
        were new."""
        if not documents:
            return 0
        events = [
            {
                # a new version of a document is a new event; the same one
                # listed again is a duplicate
                "id": ":".join(
                    (
                        "pull",
                        self.object_type,
                        str(doc["id"]),
                        doc.get("updated_at") or "",
                    )
                ),
                "type": f"{self.object_type}.upsert",
                "occurred_at": doc.get("updated_at")
                or fields.Datetime.now().isoformat(),
                "data": doc["data"],
            }
            for doc in documents
        ]
        results = self.env["fih.intake"]._store_events(
            backend.id, backend.company_id.id, events, None, str(uuid.uuid4())
        )
        return sum(1 for result in results if not result["duplicate"])

    def _acknowledge(self, backend, ids):
        self._call(
            backend,
            "POST",
            self.ack_path,
            body=json.dumps({"ids": ids}).encode(),
            afterwards=self.env._(
                " The documents are stored and will be acknowledged on the next run."
            ),
        )

    def _save_cursor(self, cursor):
        if cursor is None or cursor == self.cursor:
            return
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                "UPDATE fih_pull SET cursor = %s WHERE id = %s", (cursor, self.id)
            )
        self.invalidate_recordset(["cursor"])

    @api.constrains("page_size")
    def _check_page_size(self):
        for pull in self:
            if not 1 <= pull.page_size <= 1000:
                raise ValidationError(
                    self.env._("The page size must be between 1 and 1000.")
                )


def _run_total(listed, page):
    """Documents of the run, when the platform says how many were still to
    export with this page (``total``); None when it does not."""
    pending = page.get("total")
    if not isinstance(pending, int) or isinstance(pending, bool) or pending < 0:
        return None
    return listed + max(pending, len(page.get("documents") or []))
