"""The body of an inbound request, read within a deadline, and who sent it."""

from odoo.tools import config

from ..lib import bounded_read

# seconds a sender has for its whole body once the headers are in; the
# buffering proxy in front of Odoo (see scripts/nginx.conf.template) holds
# slow senders before they reach a worker, this bounds what gets through
DEFAULT_BODY_SECONDS = 10.0


def body_seconds():
    return float(config.get("fih_request_body_timeout") or DEFAULT_BODY_SECONDS)


def body_reader(httprequest):
    """``read(length=None)``: the announced body (``length`` bytes at most),
    read straight from the connection within :func:`body_seconds`; raises
    :class:`~lib.bounded_read.BodyTimeout` or ``BodyIncomplete``."""
    environ = _wsgi_environ(httprequest)
    announced = httprequest.content_length or 0

    def read(length=None):
        wanted = announced if length is None else min(announced, length)
        return bounded_read.read_within(
            environ["wsgi.input"],
            wanted,
            body_seconds(),
            sock=environ.get("werkzeug.socket"),
        )

    return read


def _wsgi_environ(httprequest):
    """The server's own WSGI environment of the request.

    Odoo's request wrapper hides the input stream and the connection (its
    ``environ`` has no ``wsgi.*`` and ``werkzeug.*`` keys); a deadline needs
    both, so they are taken from the werkzeug request it wraps.
    """
    return httprequest._HTTPRequest__wrapped.environ  # noqa: SLF001


def client_address(httprequest):
    """The sender's address (behind the proxy, as the proxy saw it: Odoo's
    proxy_mode takes it from X-Forwarded-For, which the proxy sets)."""
    return httprequest.remote_addr or "unknown"
