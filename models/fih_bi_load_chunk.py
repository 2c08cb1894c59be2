from odoo import fields, models


class FihBiLoadChunk(models.Model):
    _name = "fih.bi.load.chunk"
    _description = "Chunk of a load, as accepted by the reporting platform"
    _order = "load_id, sequence"

    load_id = fields.Many2one(
        "fih.bi.load", required=True, ondelete="cascade", index=True, readonly=True
    )
    sequence = fields.Integer(required=True, readonly=True)
    rows = fields.Integer(readonly=True, help="Rows added or updated.")
    tombstones = fields.Integer(readonly=True, string="Deletions")
    raw_bytes = fields.Integer(readonly=True, string="Bytes")
    bytes_sent = fields.Integer(readonly=True, string="Bytes sent (gzip)")
    sha256 = fields.Char(
        readonly=True,
        string="SHA-256",
        help="Hash of the uncompressed chunk; the platform can verify it.",
    )
    totals_json = fields.Text(readonly=True)
    first_key = fields.Integer(readonly=True)
    last_key = fields.Integer(readonly=True)
    http_status = fields.Integer(readonly=True)
    duration_ms = fields.Integer(readonly=True, string="Duration (ms)")

    _sql_constraints = [
        (
            "sequence_unique",
            "unique(load_id, sequence)",
            "A chunk is recorded once per load.",
        ),
    ]
