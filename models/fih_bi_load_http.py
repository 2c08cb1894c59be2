import time

from odoo import models

from ..lib import bi_encoding, delivery_policy
from .fih_bi_load import CHUNK_ATTEMPTS, CHUNK_PAUSE_SECONDS, LoadStopped


class FihBiLoadHttp(models.Model):
    """Loads to a reporting platform's HTTP endpoint: each chunk and the
    manifest POSTed (gzip, idempotency key per chunk) with a few quick
    retries; a chunk that cannot be delivered now stops the load, which
    resumes from it later."""

    _inherit = "fih.bi.load"

    def _deliver_chunk(self, sequence, raw, rows, live, digest):
        """Deliver one chunk; (status, seconds, bytes sent). Raises
        LoadStopped when it cannot be delivered now."""
        body = bi_encoding.compress(raw)
        status, seconds = self._post_with_retries(
            self._url(f"chunks/{sequence}"),
            body,
            {
                "Content-Type": bi_encoding.CONTENT_TYPES[
                    self.publication_id.data_format
                ],
                "Content-Encoding": "gzip",
                "Idempotency-Key": f"{self.uid}:{sequence}",
                "X-FIH-Load-Id": self.uid,
                "X-FIH-Chunk": str(sequence),
                "X-FIH-Rows": str(len(rows)),
                "X-FIH-Chunk-SHA256": digest,
            },
        )
        return status, seconds, len(body)

    # -- HTTP -----------------------------------------------------------------

    def _url(self, suffix):
        publication = self.publication_id
        if not publication.backend_id.base_url:
            return ""  # the call is refused with the reason
        return self.env["fih.http.client"]._url(
            publication.backend_id,
            publication.endpoint_path,
            publication.code,
            "loads",
            self.uid,
            suffix,
        )

    def _post_with_retries(self, url, body, headers, want_content=False):
        """POST one chunk (or the manifest); a few quick retries, then stop
        the load so that it resumes later from this chunk."""
        backend = self.publication_id.backend_id.sudo()
        started = time.monotonic()
        reply = self.env["fih.http.client"]._call(
            backend,
            "POST",
            url,
            headers,
            body,
            attempts=CHUNK_ATTEMPTS,
            pauses=CHUNK_PAUSE_SECONDS,
        )
        outcome = reply.outcome
        if outcome.kind != delivery_policy.DELIVERED:
            raise LoadStopped(
                outcome.reason,
                retry=outcome.kind == delivery_policy.RETRY,
                retry_after=outcome.retry_after,
            )
        seconds = time.monotonic() - started
        return (
            (reply.status, seconds, reply.content)
            if want_content
            else (reply.status, seconds)
        )
