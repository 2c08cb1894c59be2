from odoo import api, fields, models


class FihBiDeletion(models.Model):
    """Records deleted from the database, so that incremental publications
    can send a tombstone for rows that no longer exist."""

    _name = "fih.bi.deletion"
    _description = "Deleted record, for BI tombstones"
    _order = "deleted_at, res_id"
    _log_access = False

    res_model = fields.Char(required=True, readonly=True)
    res_id = fields.Integer(required=True, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, ondelete="cascade")
    deleted_at = fields.Datetime(required=True, readonly=True)

    def init(self):
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS fih_bi_deletion_feed
                ON fih_bi_deletion (res_model, deleted_at, res_id)
            """
        )

    @api.model
    def _record(self, records, company_field="company_id"):
        """Remember ``records`` as deleted, at the deleting transaction's time
        (the stamp Odoo gives its own changes, so the feeds stay comparable)."""
        if not records:
            return
        now = self.env.cr.now()
        self.sudo().create(
            [
                {
                    "res_model": record._name,
                    "res_id": record.id,
                    "company_id": record[company_field].id if company_field else False,
                    "deleted_at": now,
                }
                for record in records
            ]
        )
