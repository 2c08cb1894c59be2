import json

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import bi_encoding
from ..lib.bi_datasets import DATASETS


class FihBiLoadReconciliation(models.Model):
    """The reconciliation checkpoint of a load: the manifest (row counts,
    control totals, content hash) sent after the last chunk, and the
    platform's acknowledgement compared with it, figure by figure."""

    _inherit = "fih.bi.load"

    def _build_manifest(self):
        publication = self.publication_id
        dataset = DATASETS[self.dataset]
        totals = bi_encoding.ControlTotals([], [])
        for chunk in self.chunk_ids.sorted("sequence"):
            totals.merge(json.loads(chunk.totals_json))
        chunks = [
            {
                "sequence": chunk.sequence,
                "rows": chunk.rows,
                "tombstones": chunk.tombstones,
                "sha256": chunk.sha256,
            }
            for chunk in self.chunk_ids.sorted("sequence")
        ]
        identity = {
            **publication._manifest_identity(),
            "load_id": self.uid,
            "mode": self.mode,
            "replace": self.mode == "full" or not dataset.incremental,
            "key": dataset.key_column,
            "control_totals": [
                {"amount": t.amount, "currency": t.currency, "company": t.company}
                for t in dataset.totals
            ],
            "period": (
                {
                    "start": str(self.period_start),
                    "end": str(self.period_end),
                    "locked": self.period_locked,
                }
                if self.mode == "period"
                else None
            ),
            "as_of": str(self.as_of) if not dataset.incremental else None,
            "changes_before": (
                self.bound_at.isoformat() + "Z" if self.mode == "incremental" else None
            ),
        }
        manifest = bi_encoding.manifest(
            identity, publication._columns_manifest(), chunks, totals.as_list()
        )
        self.write(
            {
                "manifest": json.dumps(manifest, indent=1, sort_keys=True),
                "totals_json": json.dumps(manifest["totals"]),
                "content_sha256": manifest["content_sha256"],
            }
        )

    def _send_manifest(self):
        status, _seconds, content = self._post_with_retries(
            self._url("manifest"),
            self.manifest.encode(),
            {
                "Content-Type": "application/json",
                "Idempotency-Key": f"{self.uid}:manifest",
                "X-FIH-Load-Id": self.uid,
            },
            want_content=True,
        )
        self._mark_sent()
        acknowledgement = _json_or_none(content)
        if status == 200 and acknowledgement and "rows" in acknowledgement:
            self._reconcile(acknowledgement)

    def _mark_sent(self):
        """Everything is at the destination: move the watermark, wait for
        (or compare) the destination's figures."""
        if self.mode == "incremental" and self.last_changed_at:
            self.publication_id._advance_watermark(self.last_changed_at, self.last_key)
        elif self.mode == "full" and DATASETS[self.dataset].incremental:
            # everything before the snapshot bound is now at the destination
            self.publication_id._advance_watermark(self.bound_at, 0)
        self.write({"finished_at": fields.Datetime.now(), "state": "awaiting_ack"})

    def _reconcile(self, acknowledgement):
        """Compare what the platform reports with what was sent."""
        self.ensure_one()
        expected = json.loads(self.manifest)
        differences = bi_encoding.compare(expected, acknowledgement)
        self.write(
            {
                "acknowledgement": json.dumps(
                    acknowledgement, indent=1, sort_keys=True
                ),
                "acknowledged_at": fields.Datetime.now(),
                "differences": "\n".join(differences) or False,
                "state": "mismatch" if differences else "reconciled",
            }
        )
        if differences:
            publication = self.publication_id
            publication._alert(
                self.env._("Reconciliation mismatch: %s", publication.name),
                self.env._(
                    "The reporting platform's figures for load %(load)s do not "
                    "match what was sent:\n%(differences)s",
                    load=self.uid,
                    differences="\n".join(differences),
                ),
            )

    @api.model
    def _receive_acknowledgement(self, backend, acknowledgement):
        """An acknowledgement sent later by the platform (signed webhook)."""
        load_id = acknowledgement.get("load_id")
        load = self.sudo().search(
            [("uid", "=", load_id), ("backend_id", "=", backend.id)], limit=1
        )
        if not load:
            raise UserError(self.env._("Unknown load %s.", load_id))
        if load.publication_id.sink != "http":
            # a warehouse or Parquet load is reconciled with the destination's
            # own figures, read back after the write: the platform never
            # received it and has nothing to confirm or clear
            raise UserError(
                self.env._(
                    "Load %s was written to a warehouse or to files, not sent to "
                    "the reporting platform: its figures are read back from the "
                    "destination, so the platform cannot acknowledge it.",
                    load_id,
                )
            )
        if load.state not in ("awaiting_ack", "reconciled", "mismatch"):
            raise UserError(
                self.env._("Load %s has not been sent completely yet.", load_id)
            )
        load._reconcile(acknowledgement)
        return load


def _json_or_none(content):
    try:
        value = json.loads(content or b"")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
